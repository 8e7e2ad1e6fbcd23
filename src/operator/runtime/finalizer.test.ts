import { describe, expect, it } from 'vitest';
import { FINALIZER } from '../../domain/naming.ts';
import type { KubeObject } from '../../schemas/kube-object.ts';
import { reconcileWithFinalizer } from './finalizer.ts';

const obj = (meta: Partial<KubeObject['metadata']> = {}): KubeObject => ({
  apiVersion: 'paas.kubeop.io/v1alpha1',
  kind: 'Project',
  metadata: { name: 'p', ...meta },
});

function recorder() {
  const applied: KubeObject[] = [];
  return { applied, client: { apply: async (o: KubeObject) => void applied.push(o) } };
}

describe('reconcileWithFinalizer', () => {
  it('an object without the finalizer gets it before apply runs', async () => {
    const { applied, client } = recorder();
    const order: string[] = [];
    await reconcileWithFinalizer(client, obj(), {
      apply: async () => void order.push(`apply after ${applied.length} write(s)`),
      cleanup: async () => true,
    });
    expect(applied).toEqual([
      {
        apiVersion: 'paas.kubeop.io/v1alpha1',
        kind: 'Project',
        metadata: { name: 'p', finalizers: [FINALIZER] },
      },
    ]);
    expect(order).toEqual(['apply after 1 write(s)']);
  });

  it('an object that has it is not written again and returns what apply returns', async () => {
    const { applied, client } = recorder();
    const r = await reconcileWithFinalizer(client, obj({ finalizers: [FINALIZER] }), {
      apply: async () => ({ requeueAfterMs: 7 }),
      cleanup: async () => true,
    });
    expect(applied).toEqual([]);
    expect(r).toEqual({ requeueAfterMs: 7 });
  });

  it('a deleted object keeps the finalizer while cleanup is under way', async () => {
    const { applied, client } = recorder();
    const r = await reconcileWithFinalizer(
      client,
      obj({ finalizers: [FINALIZER, 'other'], deletionTimestamp: 'now' }),
      { apply: async () => expect.fail('apply must not run'), cleanup: async () => false },
      1234,
    );
    expect(r).toEqual({ requeueAfterMs: 1234 });
    expect(applied).toEqual([]);
  });

  it('a deleted object loses only kubeOP finalizer once cleanup is done', async () => {
    const { applied, client } = recorder();
    await reconcileWithFinalizer(
      client,
      obj({ namespace: 'ns', finalizers: [FINALIZER], deletionTimestamp: 'now' }),
      {
        apply: async () => expect.fail('apply must not run'),
        cleanup: async () => true,
      },
    );
    expect(applied).toEqual([
      {
        apiVersion: 'paas.kubeop.io/v1alpha1',
        kind: 'Project',
        metadata: { name: 'p', namespace: 'ns', finalizers: [] },
      },
    ]);
  });

  it('a deleted object without the finalizer is left alone', async () => {
    const { applied, client } = recorder();
    let cleaned = false;
    await reconcileWithFinalizer(client, obj({ deletionTimestamp: 'now' }), {
      apply: async () => expect.fail('apply must not run'),
      cleanup: async () => (cleaned = true),
    });
    expect(cleaned).toBe(false);
    expect(applied).toEqual([]);
  });
});
