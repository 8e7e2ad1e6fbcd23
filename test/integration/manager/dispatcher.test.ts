import { Writable } from 'node:stream';
import { KubeConfig } from '@kubernetes/client-node';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { migrate } from '../../../src/db/migrate.ts';
import { migrations } from '../../../src/db/migrations/index.ts';
import { KubeClient } from '../../../src/kube/client.ts';
import { createDispatcher } from '../../../src/manager/outbox/dispatcher.ts';
import { enqueueOutbox } from '../../../src/manager/outbox/store.ts';
import { createLogger } from '../../../src/platform/logging.ts';
import { drivers, type TestDatabase } from '../../support/databases.ts';

const quiet = createLogger({
  service: 'test',
  level: 'silent',
  destination: new Writable({ write: (_c, _e, d) => d() }),
});

/** A cluster that is not there: nothing listens on port 1. */
function unreachable(): KubeClient {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'c', server: 'https://127.0.0.1:1', skipTLSVerify: true }],
    users: [{ name: 'u', token: 'x' }],
    contexts: [{ name: 'ctx', cluster: 'c', user: 'u' }],
    currentContext: 'ctx',
  });
  return new KubeClient(kc, { fieldManager: 'test' });
}

describe.each(drivers)('outbox dispatcher on $name', ({ open }) => {
  let t: TestDatabase;
  beforeEach(async () => {
    t = await open();
    await migrate(t.db, migrations);
  });
  afterEach(async () => {
    await t.drop();
  });

  it('keeps every change queued while the cluster is unreachable, recording the attempt', async () => {
    await enqueueOutbox(t.db, {
      kind: 'Tenant',
      name: 'a',
      operation: 'apply',
      payload: { apiVersion: 'paas.kubeop.io/v1alpha1', kind: 'Tenant', metadata: { name: 'a' } },
    });
    await enqueueOutbox(t.db, {
      kind: 'Tenant',
      name: 'b',
      operation: 'apply',
      payload: { apiVersion: 'paas.kubeop.io/v1alpha1', kind: 'Tenant', metadata: { name: 'b' } },
    });
    const d = createDispatcher({ db: t.db, client: unreachable(), logger: quiet });
    await expect(d.dispatchOnce()).rejects.toThrow(/ECONNREFUSED|connect/);
    expect(await d.pending()).toBe(2);
    const { rows } = await t.db.query<{ name: string; attempts: number; last_error: string | null }>(
      'SELECT name, attempts, last_error FROM outbox ORDER BY id',
    );
    expect(rows.map((r) => [r.name, r.attempts])).toEqual([
      ['a', 1],
      ['b', 0],
    ]);
    expect(rows[0]?.last_error).toMatch(/ECONNREFUSED|connect/);
  });

  it('sends only the newest change of an object, in the order of the newest changes', async () => {
    const sent: string[] = [];
    const client = {
      apply: async (o: { metadata: { name: string }; spec?: { v?: number } }) =>
        void sent.push(`apply ${o.metadata.name} v${o.spec?.v}`),
      delete: async (r: { name: string }) => void sent.push(`delete ${r.name}`),
    } as unknown as KubeClient;
    const cr = (name: string, v: number) => ({
      apiVersion: 'paas.kubeop.io/v1alpha1',
      kind: 'Tenant',
      metadata: { name },
      spec: { v },
    });
    await enqueueOutbox(t.db, { kind: 'Tenant', name: 'x', operation: 'apply', payload: cr('x', 1) });
    await enqueueOutbox(t.db, { kind: 'Tenant', name: 'y', operation: 'apply', payload: cr('y', 1) });
    await enqueueOutbox(t.db, { kind: 'Tenant', name: 'x', operation: 'apply', payload: cr('x', 2) });
    await enqueueOutbox(t.db, { kind: 'Tenant', name: 'y', operation: 'delete' });
    const d = createDispatcher({ db: t.db, client, logger: quiet });
    expect(await d.dispatchOnce()).toMatchObject({ applied: 1, deleted: 1, coalesced: 2 });
    expect(sent).toEqual(['apply x v2', 'delete y']);
    expect(await d.pending()).toBe(0);
  });

  it('marks what was sent before a failure, and resends nothing twice afterwards', async () => {
    let fail = true;
    const sent: string[] = [];
    const client = {
      apply: async (o: { metadata: { name: string } }) => {
        if (o.metadata.name === 'second' && fail) throw new Error('boom');
        sent.push(o.metadata.name);
      },
    } as unknown as KubeClient;
    for (const name of ['first', 'second', 'third']) {
      await enqueueOutbox(t.db, {
        kind: 'Tenant',
        name,
        operation: 'apply',
        payload: { apiVersion: 'v', kind: 'Tenant', metadata: { name } },
      });
    }
    const d = createDispatcher({ db: t.db, client, logger: quiet });
    await expect(d.dispatchOnce()).rejects.toThrow('boom');
    expect(sent).toEqual(['first']);
    expect(await d.pending()).toBe(2);
    fail = false;
    await d.dispatchOnce();
    expect(sent).toEqual(['first', 'second', 'third']);
    expect(await d.pending()).toBe(0);
  });
});
