import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { migrate } from '../../../src/db/migrate.ts';
import { migrations } from '../../../src/db/migrations/index.ts';
import type { KubeClient } from '../../../src/kube/client.ts';
import { createDispatcher } from '../../../src/manager/outbox/dispatcher.ts';
import {
  createLaneSupervisor,
  type LaneCluster,
  type LaneSupervisor,
} from '../../../src/manager/outbox/lanes.ts';
import { insertCluster } from '../../../src/manager/clusters/store.ts';
import { acquireLease } from '../../../src/manager/outbox/lease-store.ts';
import { enqueueOutbox } from '../../../src/manager/outbox/store.ts';
import { createLogger } from '../../../src/platform/logging.ts';
import { drivers, type TestDatabase } from '../../support/databases.ts';

const quiet = createLogger({
  service: 'test',
  level: 'silent',
  destination: new Writable({ write: (_c, _e, d) => d() }),
});

/** A cluster that records what it receives, per replica, so a test sees who delivered what. */
function recorder(log: string[], who: string) {
  return async (cluster: LaneCluster) =>
    ({
      apply: async (o: { metadata: { name: string } }) =>
        void log.push(`${who} ${cluster.name} ${o.metadata.name}`),
      delete: async () => true,
      list: async () => [],
    }) as unknown as KubeClient;
}

const waitFor = async (what: string, check: () => boolean | Promise<boolean>, ms = 10_000) => {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
};

describe.each(drivers)('delivery lanes on $name', ({ open }) => {
  let t: TestDatabase;
  const ids = { a: randomUUID(), b: randomUUID() };
  const running: LaneSupervisor[] = [];

  beforeEach(async () => {
    t = await open();
    await migrate(t.db, migrations);
    for (const [name, id] of Object.entries(ids)) {
      await insertCluster(t.db, {
        id,
        name,
        server: `https://${name}:6443`,
        sealedKubeconfig: 'kms1:test:x:y',
        isDefault: name === 'a',
        labels: {},
      });
    }
  });
  afterEach(async () => {
    for (const s of running.splice(0)) await s.stop();
    await t.drop();
  });

  const entry = (cluster: string, name: string) =>
    enqueueOutbox(t.db, {
      kind: 'Tenant',
      name,
      operation: 'apply',
      payload: { apiVersion: 'paas.kubeop.io/v1alpha1', kind: 'Tenant', metadata: { name } },
      clusterId: cluster,
    });

  const supervisor = (who: string, log: string[]) => {
    const s = createLaneSupervisor({
      db: t.db,
      logger: quiet,
      access: { canOpen: () => true, open: () => Promise.reject(new Error('unused')) },
      holder: who,
      leaseMs: 1_000,
      renewMs: 150,
      pollMs: 50,
      statusEveryMs: 60_000,
      clientFor: recorder(log, who),
    });
    running.push(s);
    return s;
  };

  it('a lane dispatcher delivers only its own cluster, and only while it holds the lease', async () => {
    await entry(ids.a, 'for-a');
    await entry(ids.b, 'for-b');
    const sent: string[] = [];
    const client = await recorder(
      sent,
      'r',
    )({ id: ids.a, name: 'a', sealedKubeconfig: null, isDefault: true });
    const d = createDispatcher({ db: t.db, client, logger: quiet, lane: { clusterId: ids.a, holder: 'me' } });
    expect(await d.dispatchOnce()).toBeUndefined();
    expect(sent).toEqual([]);
    expect(await acquireLease(t.db, ids.a, 'me', 60_000)).toEqual({ acquired: true });
    expect(await acquireLease(t.db, ids.a, 'someone-else', 60_000)).toEqual({ acquired: false });
    expect(await d.dispatchOnce()).toMatchObject({ applied: 1 });
    expect(sent).toEqual(['r a for-a']);
    expect(await d.pending()).toBe(0);
    const { rows } = await t.db.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM outbox WHERE delivered_at IS NULL AND cluster_id = $1',
      [ids.b],
    );
    expect(rows[0]!.n).toBe(1);
  });

  it('gives each lane to exactly one replica, and a dead replica’s lanes to another within seconds', async () => {
    const log: string[] = [];
    const one = supervisor('one', log);
    one.start();
    await waitFor('replica one owns both lanes', () => one.owned().length === 2);
    const two = supervisor('two', log);
    two.start();
    await new Promise((r) => setTimeout(r, 500));
    expect(two.owned()).toEqual([]);

    await entry(ids.a, 'x1');
    await entry(ids.b, 'y1');
    await waitFor('first changes delivered', () => log.length === 2);
    expect(log.sort()).toEqual(['one a x1', 'one b y1']);

    // Replica one dies: its loops stop and its leases are left to expire.
    await one.stop({ release: false });
    const died = Date.now();
    await entry(ids.a, 'x2');
    await entry(ids.b, 'y2');
    await waitFor('replica two took both lanes over', () => two.owned().length === 2, 5_000);
    const takeoverMs = Date.now() - died;
    await waitFor('later changes delivered by replica two', () => log.length === 4);
    expect(log.slice(2).sort()).toEqual(['two a x2', 'two b y2']);
    expect(takeoverMs).toBeLessThan(3_000);
  });

  it('hands the lanes over at once on a clean stop, and stops a lane whose cluster is deregistered', async () => {
    const log: string[] = [];
    const one = supervisor('one', log);
    one.start();
    await waitFor('one owns both', () => one.owned().length === 2);
    const two = supervisor('two', log);
    two.start();
    await one.stop();
    await waitFor('two owns both', () => two.owned().length === 2, 900);
    await t.db.query('DELETE FROM clusters WHERE id = $1', [ids.b]);
    two.refresh();
    await waitFor('lane b stopped', () => two.owned().length === 1 && two.owned()[0] === ids.a);
  });
});
