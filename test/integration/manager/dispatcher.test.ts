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

  it('after an outage, a batch that delivered something retries its refused entry soon, not after the longest backoff', async () => {
    // The cluster is away (every send fails) long enough for the backoff to reach its cap; then it
    // returns, and each "app" is refused once before it is accepted (its namespace does not exist
    // yet), as happens after a real outage.
    let away = true;
    const refusedOnce = new Set<string>();
    const sent: string[] = [];
    const client = {
      apply: async (o: { metadata: { name: string } }) => {
        const name = o.metadata.name;
        if (away) throw new Error('connect ECONNREFUSED');
        if (name.startsWith('app') && !refusedOnce.has(name)) {
          refusedOnce.add(name);
          throw new Error('namespaces "p" not found');
        }
        sent.push(name);
      },
    } as unknown as KubeClient;
    const names = ['p1', 'app1', 'p2', 'app2', 'p3', 'app3', 'p4', 'app4'];
    for (const name of names) {
      await enqueueOutbox(t.db, {
        kind: 'Tenant',
        name,
        operation: 'apply',
        payload: { apiVersion: 'v', kind: 'Tenant', metadata: { name } },
      });
    }
    const d = createDispatcher({ db: t.db, client, logger: quiet, pollMs: 50, maxBackoffMs: 4_000 });
    d.start();
    try {
      // 500 + 1000 + 2000 + 4000 ms of failures: the backoff is at its 4 s cap.
      await new Promise((r) => setTimeout(r, 7_800));
      away = false;
      const back = performance.now();
      while (sent.length < names.length && performance.now() - back < 30_000)
        await new Promise((r) => setTimeout(r, 50));
      const tookMs = performance.now() - back;
      expect(sent).toEqual(names);
      // Four refusals: at the cap each would cost 4 s (≥ 16 s); restarted backoff costs ~0.5 s each.
      expect(tookMs).toBeLessThan(9_000);
    } finally {
      await d.stop();
    }
  }, 60_000);
});
