import { KubeConfig } from '@kubernetes/client-node';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KubeClient } from '../../src/kube/client.ts';
import type { Project } from '../../src/schemas/crds/types.ts';
import { createPostgresDatabase } from '../support/databases.ts';
import { eventually, kubeconfigPath } from '../support/e2e.ts';
import { startKubeop, type Started } from '../support/kubeop-process.ts';
import { installKubeop, metricValue } from '../support/operator.ts';
import { removeCrs } from '../support/manager-cleanup.ts';

const token = 'kop_' + 'r'.repeat(43);
const auth = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };

// Two manager processes on one PostgreSQL database: the cluster's delivery lane belongs to one of
// them. That one is killed with SIGKILL while changes flow through the other; the survivor takes
// the lane over within seconds and every custom resource ends up equal to the database.
describe.skipIf(!kubeconfigPath)('two manager replicas, the lane owner killed', () => {
  let db: { url: string; drop: () => Promise<void> };
  let sql: pg.Client;
  let cluster: KubeClient;
  const managers: Started[] = [];
  const env = () => ({
    KUBEOP_HTTP_ADDR: '127.0.0.1:0',
    KUBEOP_DB_URL: db.url,
    KUBEOP_KUBECONFIG: kubeconfigPath!,
    KUBEOP_BOOTSTRAP_TOKEN: token,
  });

  beforeAll(async () => {
    await installKubeop(kubeconfigPath!);
    db = await createPostgresDatabase();
    sql = new pg.Client({ connectionString: db.url });
    await sql.connect();
    const kc = new KubeConfig();
    kc.loadFromFile(kubeconfigPath!);
    cluster = new KubeClient(kc, { fieldManager: 'e2e-test' });
  });
  afterAll(async () => {
    for (const m of managers) if (m.child.exitCode === null && m.child.signalCode === null) await m.stop();
    // No operator ran, so the CRs have no finalizers: remove them, or later suites' operators
    // would spend minutes reconciling them.
    await removeCrs(cluster, 'replicas');
    await sql?.end();
    await db?.drop();
  });

  const laneHolder = async () =>
    (
      await sql.query<{ holder: string }>(
        "SELECT l.holder FROM cluster_leases l JOIN clusters c ON c.id = l.cluster_id WHERE c.name = 'default' AND l.expires_at > now()",
      )
    ).rows[0]?.holder;
  const pidOf = (holder: string) => Number(holder.split('/')[1]);

  it('the other replica takes the lane over within seconds and every CR matches the database', async () => {
    managers.push(...(await Promise.all([startKubeop(['manager'], env()), startKubeop(['manager'], env())])));
    const holder = await eventually('a replica owns the lane', laneHolder, 30_000);
    const owner = managers.find((m) => m.child.pid === pidOf(holder))!;
    const survivor = managers.find((m) => m !== owner)!;
    expect(owner).toBeDefined();

    const base = survivor.url;
    const create = await fetch(`${base}/v1/tenants`, {
      method: 'POST',
      headers: auth,
      body: JSON.stringify({ name: 'replicas', spec: { owners: [{ kind: 'User', name: 'o' }] } }),
    });
    expect(create.status).toBe(201);

    // 80 projects created, then each updated: 160 changes, 4 at a time, through the survivor's API.
    const names = Array.from({ length: 80 }, (_, i) => `replicas-p${i}`);
    const changes = [
      ...names.map(
        (n) => () =>
          fetch(`${base}/v1/tenants/replicas/projects`, {
            method: 'POST',
            headers: auth,
            body: JSON.stringify({ name: n, spec: {} }),
          }),
      ),
      ...names.map(
        (n, i) => () =>
          fetch(`${base}/v1/tenants/replicas/projects/${n}`, {
            method: 'PUT',
            headers: auth,
            body: JSON.stringify({ spec: { environment: { round: String(i) } } }),
          }),
      ),
    ];
    let next = 0;
    let killedAt = 0;
    const statuses: number[] = [];
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        while (next < changes.length) {
          const change = changes[next++]!;
          statuses.push((await change()).status);
          if (next === 40 && !killedAt) {
            killedAt = Date.now();
            owner.child.kill('SIGKILL');
          }
        }
      }),
    );
    expect(killedAt).toBeGreaterThan(0);
    // The API is stateless: the survivor answered every change while the other died.
    expect(statuses.filter((s) => s >= 300)).toEqual([]);

    const newHolder = await eventually(
      'the survivor owns the lane',
      async () => {
        const h = await laneHolder();
        return h && pidOf(h) === survivor.child.pid ? h : undefined;
      },
      30_000,
    );
    const { rows: lease } = await sql.query<{ acquired: Date }>(
      'SELECT acquired_at AS acquired FROM cluster_leases WHERE holder = $1',
      [newHolder],
    );
    const takeoverMs = lease[0]!.acquired.getTime() - killedAt;
    expect(takeoverMs).toBeLessThan(15_000);
    expect(survivor.logs().some((l) => l.msg === 'took over the delivery lane of a cluster')).toBe(true);

    await eventually(
      'outbox drained',
      async () => {
        const { rows } = await sql.query<{ n: number }>(
          'SELECT count(*)::int AS n FROM outbox WHERE delivered_at IS NULL',
        );
        return rows[0]!.n === 0 ? true : undefined;
      },
      90_000,
    );
    const stored = (
      await sql.query<{ name: string; spec: Record<string, unknown> }>(
        "SELECT p.name, p.spec FROM projects p JOIN tenants t ON t.id = p.tenant_id WHERE t.name = 'replicas' ORDER BY p.name",
      )
    ).rows;
    expect(stored).toHaveLength(80);
    const crs = (
      await cluster.list<Project>('paas.kubeop.io/v1alpha1', 'Project', {
        labelSelector: 'app.kubernetes.io/managed-by=kubeop-manager',
      })
    ).filter((p) => p.metadata.name.startsWith('replicas-p'));
    const inCluster = new Map(crs.map((p) => [p.metadata.name, p.spec]));
    expect([...inCluster.keys()].sort()).toEqual(stored.map((s) => s.name));
    for (const s of stored) {
      expect(inCluster.get(s.name), s.name).toEqual({ ...s.spec, tenantRef: { name: 'replicas' } });
    }
    expect(await metricValue(survivor.url, 'kubeop_manager_lanes_owned')).toBe(1);
    expect(await metricValue(survivor.url, 'kubeop_manager_outbox_pending')).toBe(0);
    process.stderr.write(`[manager-replicas] lane taken over ${takeoverMs} ms after the kill\n`);
  }, 180_000);
});
