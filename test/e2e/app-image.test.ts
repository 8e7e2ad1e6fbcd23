import { randomBytes } from 'node:crypto';
import { KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { imageSource, type ExposureOptions } from '../../src/delivery/image/source.ts';
import { projectNamespace } from '../../src/domain/naming.ts';
import { KubeClient } from '../../src/kube/client.ts';
import type { App, Project, Tenant } from '../../src/schemas/crds/types.ts';
import type { KubeObject } from '../../src/schemas/kube-object.ts';
import { errorOf, eventually, kubeconfigPath } from '../support/e2e.ts';
import { installKubeop, startOperatorInProcess } from '../support/operator.ts';

const API = 'paas.kubeop.io/v1alpha1';
const suffix = () => randomBytes(3).toString('hex');
const ISSUER = 'e2e-letsencrypt';
const GATEWAY = { namespace: 'gateway-system', name: 'public' };

const ingressExposure: ExposureOptions = {
  route: { kind: 'Ingress', ingressClass: 'nginx' },
  clusterIssuer: ISSUER,
  externalDns: { enabled: true, ttlSeconds: 120 },
};
const routeExposure: ExposureOptions = {
  route: { kind: 'HTTPRoute', gateway: GATEWAY },
  clusterIssuer: ISSUER,
  externalDns: { enabled: true },
};

type Operator = Awaited<ReturnType<typeof startOperatorInProcess>>;

/**
 * The image source on the real API server: an image App becomes a Deployment whose pods Pod Security
 * `restricted` admits (kwok runs them, the deployment controller makes them available), a Service and
 * an Ingress or HTTPRoute with cert-manager and external-dns; a new image is a new revision. There is
 * no cert-manager or external-dns controller here, so the objects they would act on are asserted.
 */
describe.skipIf(!kubeconfigPath)('image Apps on the real API server', () => {
  let admin: KubeClient;
  let operator: Operator | undefined;
  const tenant = `img-${suffix()}`;
  const project = `web-${suffix()}`;
  const ns = projectNamespace(tenant, project);
  const host = (name: string) => `${name}-${tenant}.apps.example.com`;

  const start = async (exposure: ExposureOptions) => {
    await operator?.operator.stop();
    operator = await startOperatorInProcess(kubeconfigPath!, {
      resyncMs: 10_000,
      delivery: { sources: { image: imageSource(exposure) }, resyncMs: 1_000 },
    });
  };

  const appObj = (name: string, spec: Partial<App['spec']> = {}): App => ({
    apiVersion: API,
    kind: 'App',
    metadata: { name, namespace: ns },
    spec: {
      source: { image: { ref: 'registry.example/acme/web:1.0' } },
      ports: [{ name: 'http', containerPort: 8080 }],
      ...spec,
    },
  });

  const getApp = (name: string) => admin.get<App>({ apiVersion: API, kind: 'App', namespace: ns, name });
  const get = (apiVersion: string, kind: string, name: string) =>
    admin.find<KubeObject & { spec: Record<string, unknown> }>({ apiVersion, kind, namespace: ns, name });

  async function appWhere(name: string, what: string, ok: (a: App) => boolean, timeoutMs = 90_000) {
    return eventually(
      `App ${name} ${what}`,
      async () => {
        const a = await getApp(name);
        if (ok(a)) return a;
        throw new Error(`status is ${JSON.stringify(a.status)}`);
      },
      timeoutMs,
    );
  }
  const ready = (name: string, generation?: number) =>
    appWhere(
      name,
      'Ready',
      (a) =>
        a.status?.phase === 'Ready' &&
        (a.status.observedGeneration ?? 0) >= (generation ?? a.metadata.generation ?? 0),
    );

  beforeAll(async () => {
    await installKubeop(kubeconfigPath!);
    const kc = new KubeConfig();
    kc.loadFromFile(kubeconfigPath!);
    admin = new KubeClient(kc, { fieldManager: 'e2e-test' });
    await start(ingressExposure);
    const t: Tenant = {
      apiVersion: API,
      kind: 'Tenant',
      metadata: { name: tenant },
      spec: {
        owners: [{ kind: 'User', name: `${tenant}-owner` }],
        quota: { cpu: '8', memory: '16Gi', pods: 40 },
      },
    };
    const p: Project = {
      apiVersion: API,
      kind: 'Project',
      metadata: { name: project },
      spec: { tenantRef: { name: tenant }, quota: { cpu: '4', memory: '8Gi', pods: 20 } },
    };
    await admin.apply(t);
    await admin.apply(p);
    await eventually(`project ${project} Ready`, async () => {
      const got = await admin.get<Project>({ apiVersion: API, kind: 'Project', name: project });
      return got.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ? got : undefined;
    });
    await admin.apply({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'db', namespace: ns },
      stringData: { password: 'e2e-not-a-real-password' },
    });
  });

  afterAll(async () => {
    await admin?.delete({ apiVersion: API, kind: 'Project', name: project }).catch(() => {});
    await admin?.delete({ apiVersion: API, kind: 'Tenant', name: tenant }).catch(() => {});
    await operator?.operator.stop();
  });

  it('refuses contradictory TLS settings and the old mode names, saying what to change', async () => {
    const noSecret = await errorOf(
      admin.apply(appObj('bad-tls', { expose: { hosts: [host('bad')], tls: { mode: 'Secret' } } })),
    );
    expect(noSecret.code).toBe(422);
    expect(noSecret.message).toContain('expose.tls.secretName is required when expose.tls.mode is Secret');
    const issuerOnNone = await errorOf(
      admin.apply(
        appObj('bad-tls', { expose: { hosts: [host('bad')], tls: { mode: 'None', clusterIssuer: 'x' } } }),
      ),
    );
    expect(issuerOnNone.message).toContain('expose.tls.clusterIssuer applies only to expose.tls.mode Auto');
    const oldName = await errorOf(
      admin.apply(
        appObj('bad-tls', {
          expose: { hosts: [host('bad')], tls: { mode: 'ClusterIssuer' as 'Auto', clusterIssuer: 'x' } },
        }),
      ),
    );
    expect(oldName.message).toMatch(/supported values: "Auto", "Secret", "None"/);
    const noPort = await errorOf(
      admin.apply(appObj('bad-port', { ports: [], expose: { hosts: [host('bad')] } })),
    );
    expect(noPort.message).toContain('expose needs a container port');
  });

  it('runs an image App until Ready, with its URL, Service, Ingress, HPA and PDB', async () => {
    await admin.apply(
      appObj('web', {
        env: [
          { name: 'MODE', value: 'e2e' },
          { name: 'DB_PASSWORD', secretKeyRef: { name: 'db', key: 'password' } },
        ],
        resources: { requests: { cpu: '100m', memory: '64Mi' }, limits: { cpu: '200m', memory: '128Mi' } },
        probes: { readiness: { path: '/healthz' } },
        expose: { hosts: [host('web')] },
        autoscaling: { minReplicas: 2, maxReplicas: 4 },
        disruptionBudget: { minAvailable: 1 },
      }),
    );
    const app = await ready('web');
    expect(app.status).toMatchObject({
      revision: 1,
      sourceRevision: 'registry.example/acme/web:1.0',
      url: `https://${host('web')}/`,
    });
    expect(app.status?.history?.map((h) => h.revision)).toEqual([1]);

    // The HPA's minimum wins over the default replica count; the deployment controller gets there.
    await eventually('Deployment web scaled to the HPA minimum of 2', async () => {
      const d = await get('apps/v1', 'Deployment', 'web');
      return ((d?.status as { availableReplicas?: number } | undefined)?.availableReplicas ?? 0) >= 2
        ? d
        : undefined;
    });
    const svc = (await get('v1', 'Service', 'web'))!;
    expect(svc.spec.ports).toMatchObject([{ name: 'http', port: 8080, targetPort: 8080 }]);

    // TLS Auto with Ingress: cert-manager's ingress-shim is asked through the annotation.
    const ingress = (await get('networking.k8s.io/v1', 'Ingress', 'web'))!;
    expect(ingress.metadata.annotations).toMatchObject({
      'cert-manager.io/cluster-issuer': ISSUER,
      'external-dns.alpha.kubernetes.io/hostname': host('web'),
      'external-dns.alpha.kubernetes.io/ttl': '120',
    });
    expect(ingress.spec).toMatchObject({
      ingressClassName: 'nginx',
      tls: [{ hosts: [host('web')], secretName: 'web-tls' }],
      rules: [{ host: host('web') }],
    });
    expect(await get('autoscaling/v2', 'HorizontalPodAutoscaler', 'web')).toMatchObject({
      spec: { minReplicas: 2, maxReplicas: 4, scaleTargetRef: { kind: 'Deployment', name: 'web' } },
    });
    expect(await get('policy/v1', 'PodDisruptionBudget', 'web')).toMatchObject({
      spec: { minAvailable: 1, selector: { matchLabels: { 'paas.kubeop.io/app': 'web' } } },
    });
  });

  it('has pods that Pod Security restricted admits, in a namespace that enforces it', async () => {
    await ready('web');
    const namespace = await admin.get({ apiVersion: 'v1', kind: 'Namespace', name: ns });
    expect(namespace.metadata.labels?.['pod-security.kubernetes.io/enforce']).toBe('restricted');
    const running = await eventually('two running pods of web', async () => {
      const pods = await admin.list('v1', 'Pod', { namespace: ns, labelSelector: 'paas.kubeop.io/app=web' });
      const up = pods.filter((p) => (p.status as { phase?: string }).phase === 'Running');
      return up.length >= 2 ? up : undefined;
    });
    for (const p of running) {
      expect((p.spec as { securityContext?: unknown }).securityContext).toMatchObject({ runAsNonRoot: true });
    }

    // The same pod template, created directly: admitted as rendered, refused once a restricted
    // setting is removed — so the admission above is Pod Security at work, not its absence.
    const deployment = (await get('apps/v1', 'Deployment', 'web'))!;
    const template = (deployment.spec as { template: { spec: Record<string, unknown> } }).template;
    const podOf = (spec: Record<string, unknown>) => ({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { generateName: 'psa-check-' },
      spec,
    });
    await admin.request('POST', `/api/v1/namespaces/${ns}/pods?dryRun=All`, { body: podOf(template.spec) });
    const containers = template.spec.containers as Array<Record<string, unknown>>;
    const weakened = {
      ...template.spec,
      containers: containers.map((c) => ({ ...c, securityContext: { allowPrivilegeEscalation: true } })),
    };
    const refused = await errorOf(
      admin.request('POST', `/api/v1/namespaces/${ns}/pods?dryRun=All`, { body: podOf(weakened) }),
    );
    expect(refused.code).toBe(403);
    expect(refused.message).toContain('violates PodSecurity "restricted:latest"');
  });

  it('rolls out a new image as a new revision and keeps the history', async () => {
    const before = await ready('web');
    await admin.apply(
      appObj('web', { ...before.spec, source: { image: { ref: 'registry.example/acme/web:1.1' } } }),
    );
    const after = await appWhere(
      'web',
      'Ready at revision 2',
      (a) => a.status?.phase === 'Ready' && a.status.revision === 2,
    );
    expect(after.status?.sourceRevision).toBe('registry.example/acme/web:1.1');
    expect(after.status?.history?.map((h) => [h.revision, h.sourceRevision])).toEqual([
      [2, 'registry.example/acme/web:1.1'],
      [1, 'registry.example/acme/web:1.0'],
    ]);
    // The deployment controller rolls every replica (two, the HPA minimum) over to the new image.
    await eventually('Deployment web rolled out to 1.1', async () => {
      const d = (await get('apps/v1', 'Deployment', 'web'))!;
      const spec = d.spec as { template: { spec: { containers: Array<{ image: string }> } } };
      const st = d.status as { updatedReplicas?: number; availableReplicas?: number; replicas?: number };
      return spec.template.spec.containers[0]!.image === 'registry.example/acme/web:1.1' &&
        (st.updatedReplicas ?? 0) >= 2 &&
        (st.availableReplicas ?? 0) >= 2 &&
        st.replicas === st.updatedReplicas
        ? d
        : undefined;
    });
    const pods = await admin.list('v1', 'Pod', { namespace: ns, labelSelector: 'paas.kubeop.io/app=web' });
    const images = pods
      .filter((p) => !p.metadata.deletionTimestamp)
      .map((p) => (p.spec as { containers: Array<{ image: string }> }).containers[0]!.image);
    expect(images).toContain('registry.example/acme/web:1.1');

    // A change that keeps the image is a revision of its own (it can be rolled back to), from the same image.
    await admin.apply(appObj('web', { ...after.spec, env: [{ name: 'MODE', value: 'changed' }] }));
    const same = await appWhere(
      'web',
      'Ready at revision 3',
      (a) => a.status?.phase === 'Ready' && a.status.revision === 3,
    );
    expect(same.status?.history?.map((h) => [h.revision, h.sourceRevision])).toEqual([
      [3, 'registry.example/acme/web:1.1'],
      [2, 'registry.example/acme/web:1.1'],
      [1, 'registry.example/acme/web:1.0'],
    ]);
  });

  it('leaves a converged App alone: resyncs write nothing and find no drift', async () => {
    await ready('web');
    const kinds = ['Deployment', 'Service', 'Ingress', 'HorizontalPodAutoscaler', 'PodDisruptionBudget'];
    const count = async () => {
      let writes = 0;
      for (const kind of kinds) writes += await operator!.metric('kubeop_kube_writes_total', { kind });
      return { writes, drift: await operator!.metric('kubeop_drift_corrected_total', { controller: 'app' }) };
    };
    // What the API server stored must contain the rendering as written (defaults aside), or every
    // resync (each second here) would see drift and apply again.
    await eventually('a quiet second', async () => {
      const before = await count();
      await new Promise((r) => setTimeout(r, 3_000));
      const after = await count();
      return after.writes === before.writes && after.drift === before.drift ? true : undefined;
    });
    const before = await count();
    expect(before.writes).toBeGreaterThan(0); // the counter is the one the applies above went to
    await new Promise((r) => setTimeout(r, 4_000));
    expect(await count()).toEqual(before);
    expect((await getApp('web')).status?.driftCorrections ?? 0).toBe(0);
  });

  it('TLS Secret: waits for the Secret, then serves it', async () => {
    await admin.apply(
      appObj('secret-tls', {
        expose: { hosts: [host('secret-tls')], tls: { mode: 'Secret', secretName: 'own-cert' } },
      }),
    );
    const waiting = await appWhere(
      'secret-tls',
      'Failed for the missing Secret',
      (a) => a.status?.conditions?.some((c) => c.type === 'Degraded' && c.status === 'True') ?? false,
    );
    const degraded = waiting.status?.conditions?.find((c) => c.type === 'Degraded');
    expect(degraded?.reason).toBe('CredentialsMissing');
    expect(degraded?.message).toContain('Secret own-cert (spec.expose.tls.secretName) does not exist');
    expect(await get('apps/v1', 'Deployment', 'secret-tls')).toBeUndefined();

    await admin.apply({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'own-cert', namespace: ns },
      type: 'kubernetes.io/tls',
      stringData: { 'tls.crt': 'not-checked-here', 'tls.key': 'not-checked-here' },
    });
    const app = await ready('secret-tls');
    expect(app.status?.url).toBe(`https://${host('secret-tls')}/`);
    const ingress = (await get('networking.k8s.io/v1', 'Ingress', 'secret-tls'))!;
    expect(ingress.metadata.annotations?.['cert-manager.io/cluster-issuer']).toBeUndefined();
    expect(ingress.spec.tls).toEqual([{ hosts: [host('secret-tls')], secretName: 'own-cert' }]);
  });

  it('TLS None: plain HTTP, no certificate', async () => {
    await admin.apply(
      appObj('plain', { expose: { hosts: [host('plain')], paths: ['/app'], tls: { mode: 'None' } } }),
    );
    const app = await ready('plain');
    expect(app.status?.url).toBe(`http://${host('plain')}/app`);
    const ingress = (await get('networking.k8s.io/v1', 'Ingress', 'plain'))!;
    expect(ingress.spec.tls).toBeUndefined();
    expect(ingress.metadata.annotations?.['cert-manager.io/cluster-issuer']).toBeUndefined();
    expect(ingress.metadata.annotations?.['external-dns.alpha.kubernetes.io/hostname']).toBe(host('plain'));
  });

  it('with HTTPRoute exposure: routes to the platform Gateway, a Certificate for Auto, Ingresses pruned', async () => {
    await start(routeExposure);
    const route = await eventually('HTTPRoute web', async () =>
      get('gateway.networking.k8s.io/v1', 'HTTPRoute', 'web'),
    );
    expect(route.spec).toMatchObject({
      parentRefs: [{ kind: 'Gateway', namespace: GATEWAY.namespace, name: GATEWAY.name }],
      hostnames: [host('web')],
      rules: [
        {
          matches: [{ path: { type: 'PathPrefix', value: '/' } }],
          backendRefs: [{ name: 'web', port: 8080 }],
        },
      ],
    });
    expect(route.metadata.annotations?.['external-dns.alpha.kubernetes.io/hostname']).toBe(host('web'));
    const cert = (await get('cert-manager.io/v1', 'Certificate', 'web'))!;
    expect(cert.spec).toEqual({
      secretName: 'web-tls',
      dnsNames: [host('web')],
      issuerRef: { group: 'cert-manager.io', kind: 'ClusterIssuer', name: ISSUER },
    });
    await eventually('the Ingresses of web and plain pruned', async () =>
      (await get('networking.k8s.io/v1', 'Ingress', 'web')) === undefined &&
      (await get('networking.k8s.io/v1', 'Ingress', 'plain')) === undefined
        ? true
        : undefined,
    );
    // TLS None and Secret need no Certificate.
    await eventually('HTTPRoute plain', async () =>
      get('gateway.networking.k8s.io/v1', 'HTTPRoute', 'plain'),
    );
    expect(await get('cert-manager.io/v1', 'Certificate', 'plain')).toBeUndefined();
    expect(await get('cert-manager.io/v1', 'Certificate', 'secret-tls')).toBeUndefined();
    expect((await ready('web')).status?.url).toBe(`https://${host('web')}/`);
  });

  it('TLS Auto without any ClusterIssuer is Degraded with the fix, and the running revision stays', async () => {
    await start({ ...routeExposure, clusterIssuer: undefined });
    await admin.apply(
      appObj('plain', { env: [{ name: 'TOUCH', value: '1' }], expose: { hosts: [host('plain')] } }),
    );
    const app = await appWhere(
      'plain',
      'Degraded for the missing ClusterIssuer',
      (a) => a.status?.conditions?.some((c) => c.type === 'Degraded' && c.status === 'True') ?? false,
    );
    const degraded = app.status?.conditions?.find((c) => c.type === 'Degraded');
    expect(degraded?.reason).toBe('RenderFailed');
    expect(degraded?.message).toContain('KUBEOP_CLUSTER_ISSUER');
    expect(degraded?.message).toContain('set expose.tls.clusterIssuer');
    expect(app.status?.phase).toBe('Degraded');
    expect(await get('apps/v1', 'Deployment', 'plain')).toBeDefined();

    // The App may name its own issuer.
    await admin.apply(
      appObj('plain', { expose: { hosts: [host('plain')], tls: { mode: 'Auto', clusterIssuer: 'own-ca' } } }),
    );
    await ready('plain');
    const cert = (await get('cert-manager.io/v1', 'Certificate', 'plain'))!;
    expect((cert.spec.issuerRef as { name: string }).name).toBe('own-ca');
  });
});
