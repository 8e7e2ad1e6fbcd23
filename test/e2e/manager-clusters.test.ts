import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { LABEL_PROJECT, projectNamespace } from '../../src/domain/naming.ts';
import { secretSealer } from '../../src/kms/columns.ts';
import { LocalKeyring } from '../../src/kms/local.ts';
import { KubeClient } from '../../src/kube/client.ts';
import { clusterAccess } from '../../src/manager/clusters/cluster-access.ts';
import { createLaneSupervisor, type LaneSupervisor } from '../../src/manager/outbox/lanes.ts';
import { createLogger } from '../../src/platform/logging.ts';
import { drivers, type TestDatabase } from '../support/databases.ts';
import { eventually, kubeconfigPath } from '../support/e2e.ts';
import { bearer, managerApi } from '../support/manager.ts';
import { installKubeop, startOperatorInProcess } from '../support/operator.ts';

const quiet = createLogger({
  service: 'e2e',
  level: 'silent',
  destination: new Writable({ write: (_c, _e, d) => d() }),
});

/** The harness's admin kubeconfig with its files inlined: what a platform team registers. */
function inlineKubeconfig(path: string): { text: string; server: string; ca: string } {
  const doc = parse(readFileSync(path, 'utf8')) as {
    clusters: Array<{ cluster: Record<string, string> }>;
    users: Array<{ user: Record<string, string> }>;
  };
  const b64 = (file: string) => readFileSync(file).toString('base64');
  const cluster = doc.clusters[0]!.cluster;
  const user = doc.users[0]!.user;
  const ca = readFileSync(cluster['certificate-authority']!, 'utf8');
  doc.clusters[0]!.cluster = {
    server: cluster.server!,
    'certificate-authority-data': b64(cluster['certificate-authority']!),
  };
  doc.users[0]!.user = {
    'client-certificate-data': b64(user['client-certificate']!),
    'client-key-data': b64(user['client-key']!),
  };
  return { text: stringify(doc), server: cluster.server!, ca };
}

const status = async (p: Promise<unknown>) =>
  p.then(
    () => 200,
    (err: { code?: number }) => err.code ?? -1,
  );

// Clusters registered through the API, delivery through their lane, and kubeconfigs for members,
// used against the real API server: RBAC lets them in their namespace and nowhere else.
describe.skipIf(!kubeconfigPath)('clusters and member kubeconfigs', () => {
  let t: TestDatabase;
  let app: FastifyInstance;
  let admin: Record<string, string>;
  let lanes: LaneSupervisor;
  let operator: Awaited<ReturnType<typeof startOperatorInProcess>>;
  let registered: ReturnType<typeof inlineKubeconfig>;
  const suffix = randomBytes(2).toString('hex');
  const tenant = `mk-${suffix}`;
  const web = `mk-web-${suffix}`;
  const other = `mk-other-${suffix}`;

  beforeAll(async () => {
    await installKubeop(kubeconfigPath!);
    t = await drivers[0]!.open();
    const kms = new LocalKeyring([{ id: 'e2e', key: randomBytes(32) }], 'e2e');
    const access = clusterAccess({ sealer: secretSealer(kms) });
    const m = await managerApi(t.db, { clusters: { access, memberKubeconfigMaxSeconds: 3600 } });
    app = m.app;
    admin = bearer(m.adminToken);
    lanes = createLaneSupervisor({ db: t.db, logger: quiet, access, pollMs: 200, statusEveryMs: 500 });
    lanes.start();
    operator = await startOperatorInProcess(kubeconfigPath!);
    registered = inlineKubeconfig(kubeconfigPath!);
  });
  afterAll(async () => {
    // Delete what this suite created while the lane and the operator still run (finalizers).
    if (app) {
      for (const name of [web, other])
        await app.inject({ method: 'DELETE', url: `/v1/tenants/${tenant}/projects/${name}`, headers: admin });
      await app.inject({ method: 'DELETE', url: `/v1/tenants/${tenant}`, headers: admin });
      const adminKc = new KubeConfig();
      adminKc.loadFromFile(kubeconfigPath!);
      const client = new KubeClient(adminKc, { fieldManager: 'e2e-test' });
      await eventually(
        'the suite’s tenant gone from the cluster',
        async () =>
          (await client.find({ apiVersion: 'paas.kubeop.io/v1alpha1', kind: 'Tenant', name: tenant }))
            ? undefined
            : true,
        90_000,
      ).catch(() => undefined);
    }
    await lanes?.stop();
    await operator?.operator.stop();
    await app?.close();
    await t?.drop();
  });

  const post = (url: string, payload: unknown, headers = admin) =>
    app.inject({ method: 'POST', url, headers, payload: payload as object });

  it('registers a cluster after checking that it answers, and checks it again on request', async () => {
    const res = await post('/v1/clusters', { name: 'e2e', kubeconfig: registered.text });
    expect(res.statusCode, res.body).toBe(201);
    expect(res.json()).toMatchObject({
      name: 'e2e',
      default: true,
      server: registered.server,
      serverVersion: expect.stringMatching(/^v1\.\d+/),
    });
    const check = await post('/v1/clusters/e2e/check', undefined);
    expect(check.json()).toMatchObject({ reachable: true, cluster: { checkError: null } });
    lanes.refresh();
    await eventually('the lane of the cluster runs', async () =>
      lanes.owned().length === 1 ? true : undefined,
    );
  });

  it('delivers projects placed on the cluster through its lane, and they become Ready', async () => {
    expect(
      (await post('/v1/tenants', { name: tenant, spec: { owners: [{ kind: 'User', name: 'o' }] } }))
        .statusCode,
    ).toBe(201);
    for (const name of [web, other]) {
      const p = await post(`/v1/tenants/${tenant}/projects`, { name, spec: {} });
      expect(p.json()).toMatchObject({ cluster: 'e2e' });
    }
    for (const name of [web, other]) {
      await eventually(
        `${name} Ready through the API`,
        async () => {
          const res = await app.inject({ url: `/v1/tenants/${tenant}/projects/${name}`, headers: admin });
          const body = res.json() as { status?: { conditions?: Array<{ type: string; status: string }> } };
          return body.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')
            ? true
            : undefined;
        },
        90_000,
      );
    }
  }, 120_000);

  it('a viewer’s kubeconfig lists pods in its namespace and is forbidden elsewhere', async () => {
    const tok = await post('/v1/tokens', { name: 'v', role: 'project-viewer', tenant, project: web });
    const viewer = bearer((tok.json() as { token: string }).token);
    const res = await post(
      `/v1/tenants/${tenant}/projects/${web}/kubeconfig`,
      { expirationSeconds: 600 },
      viewer,
    );
    expect(res.statusCode, res.body).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    const out = res.json() as { kubeconfig: string; namespace: string; role: string; expiresAt: string };
    const ns = projectNamespace(tenant, web);
    expect(out).toMatchObject({ namespace: ns, role: 'view' });
    const lifetime = Date.parse(out.expiresAt) - Date.now();
    expect(lifetime).toBeGreaterThan(500_000);
    expect(lifetime).toBeLessThanOrEqual(600_000);

    const kc = new KubeConfig();
    kc.loadFromString(out.kubeconfig);
    expect(kc.getCurrentCluster()?.server).toBe(registered.server);
    expect(Buffer.from(kc.getCurrentCluster()!.caData!, 'base64').toString()).toBe(registered.ca);
    expect(kc.getContextObject(kc.getCurrentContext())?.namespace).toBe(ns);
    const core = kc.makeApiClient(CoreV1Api);
    expect(await status(core.listNamespacedPod({ namespace: ns }))).toBe(200);
    expect(await status(core.listNamespacedPod({ namespace: projectNamespace(tenant, other) }))).toBe(403);
    expect(await status(core.listNamespacedPod({ namespace: 'default' }))).toBe(403);
    expect(await status(core.listPodForAllNamespaces())).toBe(403);
    // View means view: no writes in its own namespace either.
    expect(
      await status(
        core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'x' }, data: {} } }),
      ),
    ).toBe(403);
  });

  it('an admin’s kubeconfig writes in the namespace, and survives the project reconciler', async () => {
    const res = await post(`/v1/tenants/${tenant}/projects/${web}/kubeconfig`, { role: 'edit' });
    expect(res.statusCode, res.body).toBe(200);
    const out = res.json() as { kubeconfig: string; serviceAccount: string; namespace: string };
    const kc = new KubeConfig();
    kc.loadFromString(out.kubeconfig);
    const core = kc.makeApiClient(CoreV1Api);
    expect(
      await status(
        core.createNamespacedConfigMap({
          namespace: out.namespace,
          body: { metadata: { name: 'by-member' }, data: {} },
        }),
      ),
    ).toBe(200);

    // A project change makes the operator reconcile (and prune) the namespace; the member's
    // ServiceAccount and RoleBinding carry no project label, so they stay.
    const put = await app.inject({
      method: 'PUT',
      url: `/v1/tenants/${tenant}/projects/${web}`,
      headers: admin,
      payload: { spec: { quota: { pods: 9 } } },
    });
    expect(put.statusCode).toBe(200);
    const adminKc = new KubeConfig();
    adminKc.loadFromFile(kubeconfigPath!);
    const client = new KubeClient(adminKc, { fieldManager: 'e2e-test' });
    await eventually('quota reconciled', async () => {
      const rq = await client.find({
        apiVersion: 'v1',
        kind: 'ResourceQuota',
        name: 'kubeop-quota',
        namespace: out.namespace,
      });
      return (rq?.spec as { hard?: Record<string, string> } | undefined)?.hard?.pods === '9'
        ? true
        : undefined;
    });
    for (const kind of ['ServiceAccount', 'RoleBinding']) {
      const obj = await client.find({
        apiVersion: kind === 'ServiceAccount' ? 'v1' : 'rbac.authorization.k8s.io/v1',
        kind,
        name: out.serviceAccount,
        namespace: out.namespace,
      });
      expect(obj, kind).toBeDefined();
      expect(obj!.metadata.labels?.[LABEL_PROJECT]).toBeUndefined();
    }
    expect(await status(core.listNamespacedPod({ namespace: out.namespace }))).toBe(200);
  }, 120_000);

  it('a member cannot get a kubeconfig beyond its role or for another tenant’s project', async () => {
    const tok = await post('/v1/tokens', { name: 'e', role: 'project-editor', tenant, project: web });
    const editor = bearer((tok.json() as { token: string }).token);
    expect(
      (await post(`/v1/tenants/${tenant}/projects/${web}/kubeconfig`, { role: 'admin' }, editor)).statusCode,
    ).toBe(403);
    expect((await post(`/v1/tenants/${tenant}/projects/${other}/kubeconfig`, {}, editor)).statusCode).toBe(
      404,
    );
  });
});
