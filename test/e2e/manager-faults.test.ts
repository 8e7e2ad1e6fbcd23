import { KubeConfig } from '@kubernetes/client-node';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KubeClient } from '../../src/kube/client.ts';
import type { Project } from '../../src/schemas/crds/types.ts';
import { createPostgresDatabase } from '../support/databases.ts';
import { eventually, kubeconfigPath } from '../support/e2e.ts';
import { startKubeop, type Started } from '../support/kubeop-process.ts';
import { removeCrs } from '../support/manager-cleanup.ts';
import { installKubeop } from '../support/operator.ts';

const token = 'kop_' + 'f'.repeat(43);
const auth = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };

// The manager is killed with SIGKILL while it delivers hundreds of changes; after a restart every
// custom resource in the cluster matches the database: nothing is lost, nothing is left stale.
describe.skipIf(!kubeconfigPath)('manager killed while delivering', () => {
  let db: { url: string; drop: () => Promise<void> };
  let cluster: KubeClient;
  const env = () => ({
    KUBEOP_HTTP_ADDR: '127.0.0.1:0',
    KUBEOP_DB_URL: db.url,
    KUBEOP_KUBECONFIG: kubeconfigPath!,
    KUBEOP_BOOTSTRAP_TOKEN: token,
  });
  let manager: Started | undefined;

  beforeAll(async () => {
    await installKubeop(kubeconfigPath!);
    db = await createPostgresDatabase();
    const kc = new KubeConfig();
    kc.loadFromFile(kubeconfigPath!);
    cluster = new KubeClient(kc, { fieldManager: 'e2e-test' });
  });
  afterAll(async () => {
    if (manager && manager.child.exitCode === null) await manager.stop();
    await db.drop();
    // 250 Projects left behind would slow every operator the later suites start.
    await removeCrs(cluster, 'faults');
  });

  it('delivers every committed change after a kill -9 and restart', async () => {
    manager = await startKubeop(['manager'], env());
    const base = manager.url;
    const tenant = await fetch(`${base}/v1/tenants`, {
      method: 'POST',
      headers: auth,
      body: JSON.stringify({ name: 'faults', spec: { owners: [{ kind: 'User', name: 'o' }] } }),
    });
    expect(tenant.status).toBe(201);

    // 250 projects created, then each updated: 500 changes, 8 at a time; the manager dies midway.
    const names = Array.from({ length: 250 }, (_, i) => `faults-p${i}`);
    const changes = [
      ...names.map(
        (n) => () =>
          fetch(`${base}/v1/tenants/faults/projects`, {
            method: 'POST',
            headers: auth,
            body: JSON.stringify({ name: n, spec: {} }),
          }),
      ),
      ...names.map(
        (n, i) => () =>
          fetch(`${base}/v1/tenants/faults/projects/${n}`, {
            method: 'PUT',
            headers: auth,
            body: JSON.stringify({ spec: { environment: { round: String(i) } } }),
          }),
      ),
    ];
    let next = 0;
    let done = 0;
    let killed = false;
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (next < changes.length) {
          const change = changes[next++]!;
          await change().catch(() => undefined);
          if (++done === 300 && !killed) {
            killed = true;
            manager!.child.kill('SIGKILL');
          }
        }
      }),
    );
    expect(killed).toBe(true);

    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    try {
      const pendingAtKill = (
        await client.query<{ n: number }>('SELECT count(*)::int AS n FROM outbox WHERE delivered_at IS NULL')
      ).rows[0]!.n;
      manager = await startKubeop(['manager'], env());
      await eventually(
        'outbox drained',
        async () => {
          const { rows } = await client.query<{ n: number }>(
            'SELECT count(*)::int AS n FROM outbox WHERE delivered_at IS NULL',
          );
          return rows[0]!.n === 0 ? true : undefined;
        },
        120_000,
      );

      const stored = (
        await client.query<{ name: string; spec: Record<string, unknown> }>(
          "SELECT p.name, p.spec FROM projects p JOIN tenants t ON t.id = p.tenant_id WHERE t.name = 'faults' ORDER BY p.name",
        )
      ).rows;
      expect(stored.length).toBeGreaterThan(0);
      const crs = (
        await cluster.list<Project>('paas.kubeop.io/v1alpha1', 'Project', {
          labelSelector: 'app.kubernetes.io/managed-by=kubeop-manager',
        })
      ).filter((p) => p.metadata.name.startsWith('faults-p'));
      const inCluster = new Map(crs.map((p) => [p.metadata.name, p.spec]));
      expect([...inCluster.keys()].sort()).toEqual(stored.map((s) => s.name));
      for (const s of stored) {
        expect(inCluster.get(s.name), s.name).toEqual({ ...s.spec, tenantRef: { name: 'faults' } });
      }
      // The kill really interrupted delivery, or the test proved nothing.
      expect(pendingAtKill + stored.length).toBeGreaterThan(0);
    } finally {
      await client.end();
    }
  }, 300_000);
});
