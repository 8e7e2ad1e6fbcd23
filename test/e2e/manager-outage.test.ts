import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { KubeConfig } from '@kubernetes/client-node';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KubeClient } from '../../src/kube/client.ts';
import type { Project } from '../../src/schemas/crds/types.ts';
import { startComponent, stopComponent } from '../support/cluster/controlplane.ts';
import { createPostgresDatabase } from '../support/databases.ts';
import { eventually, kubeconfigPath } from '../support/e2e.ts';
import { startKubeop, type Started } from '../support/kubeop-process.ts';
import { installKubeop } from '../support/operator.ts';
import { removeCrs } from '../support/manager-cleanup.ts';

const token = 'kop_' + 'o'.repeat(43);
const auth = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
/** The harness keeps its state (and the API server's arguments) beside the admin kubeconfig. */
const stateDir = kubeconfigPath ? dirname(kubeconfigPath) : '';
const restartable = Boolean(kubeconfigPath && existsSync(join(stateDir, 'state.json')));
const OUTAGE_MS = 60_000;

// The cluster's API server is stopped for a minute while changes are made through the manager's
// API: the API keeps accepting them, the outbox keeps them, and once the API server is back every
// change is delivered and the custom resources equal the database.
describe.skipIf(!restartable)('manager while the API server is down for a minute', () => {
  let db: { url: string; drop: () => Promise<void> };
  let sql: pg.Client;
  let cluster: KubeClient;
  let manager: Started | undefined;
  let apiserverStopped = false;

  beforeAll(async () => {
    await installKubeop(kubeconfigPath!);
    db = await createPostgresDatabase();
    sql = new pg.Client({ connectionString: db.url });
    await sql.connect();
    const kc = new KubeConfig();
    kc.loadFromFile(kubeconfigPath!);
    cluster = new KubeClient(kc, { fieldManager: 'e2e-test' });
    // Started here so the test's own time budget goes to the outage and the recovery.
    manager = await startKubeop(['manager'], {
      KUBEOP_HTTP_ADDR: '127.0.0.1:0',
      KUBEOP_DB_URL: db.url,
      KUBEOP_KUBECONFIG: kubeconfigPath!,
      KUBEOP_BOOTSTRAP_TOKEN: token,
    });
  });
  afterAll(async () => {
    // Never leave the shared cluster without its API server.
    if (apiserverStopped) await startComponent(stateDir, 'kube-apiserver');
    if (manager && manager.child.exitCode === null) await manager.stop();
    await removeCrs(cluster, 'outage');
    await sql?.end();
    await db?.drop();
  });

  const api = (method: string, path: string, body: unknown) =>
    fetch(`${manager!.url}${path}`, {
      method,
      ...(body === undefined
        ? { headers: { authorization: auth.authorization } }
        : { headers: auth, body: JSON.stringify(body) }),
    });
  const pending = async () =>
    (await sql.query<{ n: number }>('SELECT count(*)::int AS n FROM outbox WHERE delivered_at IS NULL'))
      .rows[0]!.n;

  it('accepts changes during the outage and delivers them all when the API server returns', async () => {
    expect(
      (await api('POST', '/v1/tenants', { name: 'outage', spec: { owners: [{ kind: 'User', name: 'o' }] } }))
        .status,
    ).toBe(201);
    expect((await api('POST', '/v1/tenants/outage/projects', { name: 'outage-p0', spec: {} })).status).toBe(
      201,
    );
    await eventually(
      'first project delivered',
      async () => ((await pending()) === 0 ? true : undefined),
      60_000,
    );

    await stopComponent(stateDir, 'kube-apiserver');
    apiserverStopped = true;
    const stoppedAt = Date.now();
    // Changes for a minute: new projects, updates of earlier ones, one deletion.
    let i = 1;
    while (Date.now() - stoppedAt < OUTAGE_MS) {
      expect(
        (await api('POST', '/v1/tenants/outage/projects', { name: `outage-p${i}`, spec: {} })).status,
      ).toBe(201);
      expect(
        (
          await api('PUT', `/v1/tenants/outage/projects/outage-p${i - 1}`, {
            spec: { environment: { at: String(i) } },
          })
        ).status,
      ).toBe(200);
      if (i === 3)
        expect((await api('DELETE', '/v1/tenants/outage/projects/outage-p1', undefined)).status).toBe(204);
      i++;
      await sleep(3_000);
    }
    const queued = await pending();
    expect(queued).toBeGreaterThan(10);
    const { rows: attempts } = await sql.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM outbox WHERE delivered_at IS NULL AND attempts > 0 AND last_error IS NOT NULL',
    );
    expect(attempts[0]!.n).toBeGreaterThan(0);

    await startComponent(stateDir, 'kube-apiserver');
    apiserverStopped = false;
    const back = Date.now();
    // Backoff is capped at 30 s, so delivery resumes within that after the API server returns.
    await eventually(
      'outbox drained after the outage',
      async () => ((await pending()) === 0 ? true : undefined),
      90_000,
    );
    const drainedMs = Date.now() - back;

    const stored = (
      await sql.query<{ name: string; spec: Record<string, unknown> }>(
        "SELECT p.name, p.spec FROM projects p JOIN tenants t ON t.id = p.tenant_id WHERE t.name = 'outage' ORDER BY p.name",
      )
    ).rows;
    const crs = (
      await cluster.list<Project>('paas.kubeop.io/v1alpha1', 'Project', {
        labelSelector: 'app.kubernetes.io/managed-by=kubeop-manager',
      })
    ).filter((p) => p.metadata.name.startsWith('outage-p') && !p.metadata.deletionTimestamp);
    const inCluster = new Map(crs.map((p) => [p.metadata.name, p.spec]));
    expect([...inCluster.keys()].sort()).toEqual(stored.map((s) => s.name));
    expect(inCluster.has('outage-p1')).toBe(false);
    for (const s of stored)
      expect(inCluster.get(s.name), s.name).toEqual({ ...s.spec, tenantRef: { name: 'outage' } });
    process.stderr.write(
      `[manager-outage] ${queued} changes queued during ${OUTAGE_MS / 1000}s; delivered ${drainedMs} ms after the API server returned\n`,
    );
  }, 180_000);
});
