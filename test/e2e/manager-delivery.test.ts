import { Writable } from 'node:stream';
import { KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { projectNamespace } from '../../src/domain/naming.ts';
import { KubeClient } from '../../src/kube/client.ts';
import { createDispatcher, type Dispatcher } from '../../src/manager/outbox/dispatcher.ts';
import { syncStatus } from '../../src/manager/outbox/status-sync.ts';
import { createLogger } from '../../src/platform/logging.ts';
import type { Project } from '../../src/schemas/crds/types.ts';
import { deleteTenantsAndWait } from '../support/admission.ts';
import { drivers, type TestDatabase } from '../support/databases.ts';
import { eventually, kubeconfigPath } from '../support/e2e.ts';
import { bearer, managerApi } from '../support/manager.ts';
import { installKubeop, startOperatorInProcess } from '../support/operator.ts';

const quiet = createLogger({
  service: 'e2e',
  level: 'silent',
  destination: new Writable({ write: (_c, _e, d) => d() }),
});

// The manager's public API, its outbox dispatcher and the operator, against the real API server.
describe.skipIf(!kubeconfigPath)('manager delivery to a cluster', () => {
  let t: TestDatabase;
  let app: FastifyInstance;
  let admin: Record<string, string>;
  let dispatcher: Dispatcher;
  let cluster: KubeClient;
  let operator: Awaited<ReturnType<typeof startOperatorInProcess>>;
  let syncing = true;
  let sync: Promise<void>;

  beforeAll(async () => {
    await installKubeop(kubeconfigPath!);
    t = await drivers[0]!.open();
    const m = await managerApi(t.db);
    app = m.app;
    admin = bearer(m.adminToken);
    const kc = new KubeConfig();
    kc.loadFromFile(kubeconfigPath!);
    cluster = new KubeClient(kc, { fieldManager: 'kubeop-manager' });
    dispatcher = createDispatcher({ db: t.db, client: cluster, logger: quiet, pollMs: 200 });
    dispatcher.start();
    sync = (async () => {
      while (syncing) {
        await syncStatus(t.db, cluster).catch(() => {});
        await new Promise((r) => setTimeout(r, 500));
      }
    })();
    operator = await startOperatorInProcess(kubeconfigPath!);
  });
  afterAll(async () => {
    syncing = false;
    await dispatcher?.stop();
    await sync;
    await operator?.operator.stop();
    await app?.close();
    await t?.drop();
  });

  const post = (url: string, payload: unknown) =>
    app.inject({ method: 'POST', url, headers: admin, payload: payload as object });

  it('a project created through the API becomes Ready in the cluster, and the API shows it', async () => {
    expect(
      (
        await post('/v1/tenants', {
          name: 'deliver',
          spec: { owners: [{ kind: 'User', name: 'o' }], quota: { pods: 20 } },
        })
      ).statusCode,
    ).toBe(201);
    expect(
      (await post('/v1/tenants/deliver/projects', { name: 'deliver-web', spec: { quota: { pods: 5 } } }))
        .statusCode,
    ).toBe(201);
    const project = await eventually('project Ready through the API', async () => {
      const res = await app.inject({ url: '/v1/tenants/deliver/projects/deliver-web', headers: admin });
      const body = res.json() as { status?: Project['status'] };
      return body.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')
        ? body
        : undefined;
    });
    expect(project.status?.namespace).toBe(projectNamespace('deliver', 'deliver-web'));
    const ns = await cluster.get({
      apiVersion: 'v1',
      kind: 'Namespace',
      name: projectNamespace('deliver', 'deliver-web'),
    });
    expect(ns.metadata.labels?.['paas.kubeop.io/tenant']).toBe('deliver');
    expect(await dispatcher.pending()).toBe(0);
  });

  it('a spec change through the API reaches the cluster', async () => {
    const res = await app.inject({
      method: 'PUT',
      url: '/v1/tenants/deliver/projects/deliver-web',
      headers: admin,
      payload: { spec: { quota: { pods: 7 } } },
    });
    expect(res.statusCode).toBe(200);
    await eventually('quota updated in the cluster', async () => {
      const rq = await cluster.find({
        apiVersion: 'v1',
        kind: 'ResourceQuota',
        name: 'kubeop-quota',
        namespace: projectNamespace('deliver', 'deliver-web'),
      });
      return (rq?.spec as { hard?: Record<string, string> } | undefined)?.hard?.pods === '7'
        ? true
        : undefined;
    });
  });

  it('deleting the project through the API removes its namespace from the cluster', async () => {
    expect(
      (
        await app.inject({
          method: 'DELETE',
          url: '/v1/tenants/deliver/projects/deliver-web',
          headers: admin,
        })
      ).statusCode,
    ).toBe(204);
    await eventually(
      'namespace gone',
      async () =>
        (await cluster.find({
          apiVersion: 'v1',
          kind: 'Namespace',
          name: projectNamespace('deliver', 'deliver-web'),
        }))
          ? undefined
          : true,
      120_000,
    );
    expect(
      (await app.inject({ method: 'DELETE', url: '/v1/tenants/deliver', headers: admin })).statusCode,
    ).toBe(204);
    await eventually(
      'tenant gone',
      async () =>
        (await cluster.find({ apiVersion: 'paas.kubeop.io/v1alpha1', kind: 'Tenant', name: 'deliver' }))
          ? undefined
          : true,
      60_000,
    );
  }, 180_000);

  it("never shows a same-named Project of another tenant as this project's status", async () => {
    // A Project named like the API's, but another tenant's: created behind the manager's back (a
    // second manager on the same cluster, or kubectl), with the manager's label.
    const api = 'paas.kubeop.io/v1alpha1';
    const labels = { 'app.kubernetes.io/managed-by': 'kubeop-manager' };
    await cluster.apply({
      apiVersion: api,
      kind: 'Tenant',
      metadata: { name: 'intruder', labels },
      spec: { owners: [{ kind: 'User', name: 'x' }] },
    });
    await cluster.apply({
      apiVersion: api,
      kind: 'Project',
      metadata: { name: 'dup-web', labels },
      spec: { tenantRef: { name: 'intruder' } },
    });
    await eventually('the intruder project has a status', async () => {
      const p = await cluster.find<Project>({ apiVersion: api, kind: 'Project', name: 'dup-web' });
      return p?.status?.namespace ? true : undefined;
    });
    try {
      expect(
        (await post('/v1/tenants', { name: 'owner2', spec: { owners: [{ kind: 'User', name: 'o' }] } }))
          .statusCode,
      ).toBe(201);
      expect((await post('/v1/tenants/owner2/projects', { name: 'dup-web', spec: {} })).statusCode).toBe(201);
      // Several status syncs later (every 500 ms), the API still knows nothing of the other one.
      await new Promise((r) => setTimeout(r, 3_000));
      const res = await app.inject({ url: '/v1/tenants/owner2/projects/dup-web', headers: admin });
      expect(res.statusCode).toBe(200);
      expect((res.json() as { status?: unknown }).status ?? null).toBeNull();
    } finally {
      await app.inject({ method: 'DELETE', url: '/v1/tenants/owner2/projects/dup-web', headers: admin });
      await app.inject({ method: 'DELETE', url: '/v1/tenants/owner2', headers: admin });
      await deleteTenantsAndWait(cluster, ['intruder', 'owner2']);
    }
  }, 240_000);
});
