import { randomBytes } from 'node:crypto';
import { KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SourceError, type Source } from '../../src/delivery/source.ts';
import {
  LABEL_APP,
  LABEL_MANAGED_BY,
  LABEL_PROJECT,
  LABEL_TENANT,
  MANAGED_BY,
  projectNamespace,
} from '../../src/domain/naming.ts';
import { KubeClient } from '../../src/kube/client.ts';
import type { App, Project } from '../../src/schemas/crds/types.ts';
import type { KubeObject } from '../../src/schemas/kube-object.ts';
import { eventually, kubeconfigPath } from '../support/e2e.ts';
import { installKubeop, startOperatorInProcess } from '../support/operator.ts';

const API = 'paas.kubeop.io/v1alpha1';
const suffix = () => randomBytes(3).toString('hex');

const configMap = (name: string, data: Record<string, string>): KubeObject => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name },
  data,
});

/** A Deployment whose pods Pod Security `restricted` admits; kwok makes them Running. */
function deployment(name: string, replicas = 1): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name },
    spec: {
      replicas,
      selector: { matchLabels: { run: name } },
      template: {
        metadata: { labels: { run: name } },
        spec: {
          securityContext: {
            runAsNonRoot: true,
            runAsUser: 1000,
            seccompProfile: { type: 'RuntimeDefault' },
          },
          containers: [
            {
              name: 'app',
              image: 'registry.example/app:1',
              resources: {
                requests: { cpu: '100m', memory: '64Mi' },
                limits: { cpu: '100m', memory: '64Mi' },
              },
              securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
            },
          ],
        },
      },
    },
  };
}

const service = (name: string, port = 80): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name },
  spec: { selector: { run: name }, ports: [{ port, targetPort: 8080 }] },
});

/**
 * A stand-in for a remote source (registered as `git`): what it serves and whether it answers are
 * set by the test, and it counts how often it is asked. It lets the failure-safety and rollback
 * tests make "the repository is unreachable" happen on demand.
 */
function fakeRemote() {
  const state = { objects: [] as KubeObject[], revision: 'c0', reachable: true, renders: 0 };
  const source: Source = {
    render() {
      state.renders++;
      if (!state.reachable) {
        return Promise.reject(
          new SourceError('SourceUnreachable', 'git.test.invalid did not answer within 30s', {
            retryable: true,
          }),
        );
      }
      return Promise.resolve({ objects: structuredClone(state.objects), sourceRevision: state.revision });
    },
  };
  return { state, source };
}

describe.skipIf(!kubeconfigPath)('App delivery on the real API server', () => {
  let admin: KubeClient;
  let operator: Awaited<ReturnType<typeof startOperatorInProcess>>;
  const remote = fakeRemote();
  const tenant = `deliv-${suffix()}`;
  const project = `apps-${suffix()}`;
  const ns = projectNamespace(tenant, project);
  const repoUrl = `https://git.test.invalid/${suffix()}.git`;

  beforeAll(async () => {
    await installKubeop(kubeconfigPath!);
    const kc = new KubeConfig();
    kc.loadFromFile(kubeconfigPath!);
    admin = new KubeClient(kc, { fieldManager: 'e2e-test' });
    operator = await startOperatorInProcess(kubeconfigPath!, {
      resyncMs: 600_000,
      delivery: { sources: { git: remote.source }, resyncMs: 3000 },
    });
    await admin.apply({
      apiVersion: API,
      kind: 'Tenant',
      metadata: { name: tenant },
      spec: {
        owners: [{ kind: 'User', name: 'owner' }],
        quota: { cpu: '4', memory: '8Gi', pods: 20, storage: '2Gi' },
      },
    });
    await admin.apply({
      apiVersion: API,
      kind: 'Project',
      metadata: { name: project },
      spec: { tenantRef: { name: tenant }, quota: { cpu: '2', memory: '4Gi', pods: 10, storage: '1Gi' } },
    });
    await eventually(
      `project ${project} Ready`,
      async () => {
        const p = await admin.get<Project>({ apiVersion: API, kind: 'Project', name: project });
        return p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ? p : undefined;
      },
      90_000,
    );
  });
  afterAll(async () => {
    // The operator removes its finalizers, so it runs until both are gone.
    for (const [kind, name] of [
      ['Project', project],
      ['Tenant', tenant],
    ] as const) {
      await admin?.delete({ apiVersion: API, kind, name }).catch(() => {});
      await eventually(`${kind} ${name} gone`, async () =>
        (await admin.get({ apiVersion: API, kind, name }).catch(() => undefined)) ? undefined : true,
      ).catch(() => {});
    }
    await operator?.operator.stop();
  });

  const getApp = (name: string, namespace = ns) =>
    admin.get<App>({ apiVersion: API, kind: 'App', name, namespace });
  const find = (kind: string, name: string, apiVersion = 'v1') =>
    admin.get({ apiVersion, kind, name, namespace: ns }).catch(() => undefined);

  async function applyRaw(
    name: string,
    manifests: KubeObject[],
    extra: Partial<App['spec']> = {},
    namespace = ns,
  ) {
    await admin.apply({
      apiVersion: API,
      kind: 'App',
      metadata: { name, namespace },
      spec: { source: { raw: { manifests } }, ...extra },
    });
  }

  /** Waits until the App's status matches `check` for its current generation. */
  async function appWhere(
    name: string,
    what: string,
    check: (a: App) => boolean,
    namespace = ns,
    timeoutMs = 60_000,
  ) {
    return eventually(
      `App ${name}: ${what}`,
      async () => {
        const a = await getApp(name, namespace);
        return a.status?.observedGeneration === a.metadata.generation && check(a) ? a : undefined;
      },
      timeoutMs,
    );
  }
  const cmData = async (name: string) => (await find('ConfigMap', name))?.data;
  const condition = (a: App, type: string) => a.status?.conditions?.find((c) => c.type === type);

  async function eventsOf(name: string): Promise<Array<{ reason: string; note: string }>> {
    const list = await admin.request<{
      items: Array<{ reason: string; note: string; regarding: { name: string; kind: string } }>;
    }>('GET', `/apis/events.k8s.io/v1/namespaces/${ns}/events`);
    return list.items.filter((e) => e.regarding.kind === 'App' && e.regarding.name === name);
  }

  /** Waits for an Event about the App (they are written in the background). */
  const eventFor = (app: string, reason: string, note?: string) =>
    eventually(`${reason} event of App ${app}`, async () =>
      (await eventsOf(app)).some((e) => e.reason === reason && (note === undefined || e.note === note))
        ? true
        : undefined,
    );

  it('applies raw manifests into the project namespace, owned and labelled, and turns Ready when the pods run', async () => {
    await applyRaw('shop', [
      configMap('shop-config', { mode: 'a' }),
      { ...deployment('shop', 2), metadata: { name: 'shop', namespace: ns } },
      service('shop'),
    ]);
    const app = await appWhere('shop', 'Ready', (a) => a.status?.phase === 'Ready', ns, 90_000);
    expect(app.status?.revision).toBe(1);
    expect(app.status?.sourceRevision).toMatch(/^sha256:/);
    expect(condition(app, 'Ready')).toMatchObject({ status: 'True', reason: 'Available' });
    expect(condition(app, 'Progressing')).toMatchObject({ status: 'False', reason: 'Complete' });
    expect(condition(app, 'Degraded')).toMatchObject({ status: 'False' });
    expect(app.status?.inventory?.map((i) => `${i.kind}/${i.name}`).sort()).toEqual([
      'ConfigMap/shop-config',
      'Deployment/shop',
      'Service/shop',
    ]);
    expect(app.status?.history?.map((h) => h.revision)).toEqual([1]);

    const deploy = await admin.get({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      name: 'shop',
      namespace: ns,
    });
    expect(deploy.metadata.labels?.[LABEL_APP]).toBe('shop');
    expect(deploy.metadata.ownerReferences).toEqual([
      expect.objectContaining({ kind: 'App', name: 'shop', uid: app.metadata.uid, controller: true }),
    ]);
    expect((deploy.status as { availableReplicas?: number }).availableReplicas).toBe(2);
    await eventFor('shop', 'Applied');
  });

  it('prunes objects that left the manifests and records a new revision', async () => {
    await appWhere('shop', 'Ready', (a) => a.status?.phase === 'Ready');
    await applyRaw('shop', [configMap('shop-config', { mode: 'b' }), deployment('shop', 2)]);
    const app = await appWhere(
      'shop',
      'revision 2',
      (a) => a.status?.revision === 2 && a.status.phase === 'Ready',
    );
    expect(app.status?.history?.map((h) => h.revision)).toEqual([2, 1]);
    expect(app.status?.inventory?.map((i) => i.kind).sort()).toEqual(['ConfigMap', 'Deployment']);
    await eventually('Service shop pruned', async () => ((await find('Service', 'shop')) ? undefined : true));
    expect(await cmData('shop-config')).toEqual({ mode: 'b' });
    await eventFor('shop', 'Pruned', 'deleted Service/shop: not part of revision 2');
  });

  it('sets back a hand edit of a managed field and a deleted object, counting and reporting the drift', async () => {
    await appWhere('shop', 'Ready', (a) => a.status?.phase === 'Ready');
    const before = await operator.metric('kubeop_drift_corrected_total', { controller: 'app' });
    await admin.mergePatch(
      { apiVersion: 'v1', kind: 'ConfigMap', name: 'shop-config', namespace: ns },
      { data: { mode: 'hacked' } },
    );
    await eventually('ConfigMap restored', async () => {
      const cm = (await find('ConfigMap', 'shop-config')) as { data?: Record<string, string> } | undefined;
      return cm?.data?.mode === 'b' ? true : undefined;
    });
    await admin.mergePatch(
      { apiVersion: 'apps/v1', kind: 'Deployment', name: 'shop', namespace: ns },
      { spec: { replicas: 5 } },
    );
    await eventually('replicas restored', async () => {
      const d = await find('Deployment', 'shop', 'apps/v1');
      return (d?.spec as { replicas?: number } | undefined)?.replicas === 2 ? true : undefined;
    });
    await admin.delete({ apiVersion: 'v1', kind: 'ConfigMap', name: 'shop-config', namespace: ns });
    await eventually('ConfigMap recreated', async () =>
      (await find('ConfigMap', 'shop-config')) ? true : undefined,
    );

    await eventually('drift counted', async () =>
      (await operator.metric('kubeop_drift_corrected_total', { controller: 'app' })) >= before + 3
        ? true
        : undefined,
    );
    // Events are written in the background, after the count.
    const wanted = [
      'ConfigMap/shop-config was changed outside kubeOP and has been restored',
      'Deployment/shop was changed outside kubeOP and has been restored',
      'ConfigMap/shop-config was deleted outside kubeOP and has been restored',
    ];
    await eventually('DriftCorrected events', async () => {
      const notes = new Set(
        (await eventsOf('shop')).filter((e) => e.reason === 'DriftCorrected').map((e) => e.note),
      );
      return wanted.every((w) => notes.has(w)) ? true : undefined;
    });
    // A field kubeOP does not set is left alone.
    await admin.mergePatch(
      { apiVersion: 'v1', kind: 'ConfigMap', name: 'shop-config', namespace: ns },
      { metadata: { labels: { team: 'mine' } } },
    );
    const app = await appWhere('shop', 'still revision 2', (a) => a.status?.revision === 2);
    expect(app.status?.driftCorrections).toBeGreaterThanOrEqual(3);
    await new Promise((r) => setTimeout(r, 4000)); // more than one resync interval
    const cm = await find('ConfigMap', 'shop-config');
    expect(cm?.metadata.labels?.team).toBe('mine');
  });

  it('a converged App is not written again on resync', async () => {
    await appWhere('shop', 'Ready', (a) => a.status?.phase === 'Ready');
    await new Promise((r) => setTimeout(r, 1000));
    // Writes of what the App touches: its objects, its stored revisions and its own status (Tenants
    // and Projects left over from earlier runs on a shared cluster may still be reconciled).
    const appKinds = new Set(['App', 'ConfigMap', 'Deployment', 'Service', 'Secret']);
    const writes = async () => {
      const m = await operator.registry.getSingleMetric('kubeop_kube_writes_total')?.get();
      return Object.fromEntries(
        (m?.values ?? [])
          .filter((v) => appKinds.has(String(v.labels.kind)))
          .map((v) => [`${v.labels.verb} ${v.labels.kind}`, v.value]),
      );
    };
    const before = await writes();
    await new Promise((r) => setTimeout(r, 7000)); // two resyncs of 3 s
    expect(await writes()).toEqual(before);
  });

  it('refuses a cluster-scoped or cross-namespace object with a clear condition and changes nothing', async () => {
    await applyRaw('shop', [
      configMap('shop-config', { mode: 'c' }),
      deployment('shop', 2),
      {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'ClusterRole',
        metadata: { name: `grab-${suffix()}` },
        rules: [],
      },
    ]);
    let app = await appWhere(
      'shop',
      'ForbiddenObject',
      (a) => condition(a, 'Degraded')?.reason === 'ForbiddenObject',
    );
    expect(app.status?.phase).toBe('Degraded');
    expect(app.status?.revision).toBe(2);
    expect(condition(app, 'Degraded')?.message).toContain('ClusterRole');
    expect(condition(app, 'Degraded')?.message).toContain(
      'is cluster-scoped; an App may only create objects inside its project namespace',
    );
    expect(condition(app, 'Degraded')?.message).toContain('the last good revision keeps running');
    expect(condition(app, 'Ready')?.status).toBe('False');

    await applyRaw('shop', [
      configMap('shop-config', { mode: 'c' }),
      deployment('shop', 2),
      { ...configMap('elsewhere', {}), metadata: { name: 'elsewhere', namespace: 'default' } },
    ]);
    app = await appWhere('shop', 'cross-namespace refused', (a) =>
      Boolean(condition(a, 'Degraded')?.message.includes('names namespace default')),
    );
    expect(condition(app, 'Degraded')?.reason).toBe('ForbiddenObject');
    expect(await cmData('shop-config')).toEqual({ mode: 'b' });
    expect(
      await admin
        .get({ apiVersion: 'v1', kind: 'ConfigMap', name: 'elsewhere', namespace: 'default' })
        .catch(() => undefined),
    ).toBeUndefined();
  });

  it('an object the API server refuses leaves every other object of the revision unapplied', async () => {
    const bad = deployment('shop', 2);
    (bad.spec as Record<string, unknown>).replicas = 'two';
    await applyRaw('shop', [configMap('shop-config', { mode: 'd' }), bad]);
    const app = await appWhere(
      'shop',
      'InvalidManifests',
      (a) => condition(a, 'Degraded')?.reason === 'InvalidManifests',
    );
    expect(condition(app, 'Degraded')?.message).toContain('apps/v1 Deployment/shop is invalid');
    expect(app.status?.revision).toBe(2);
    expect(await cmData('shop-config')).toEqual({ mode: 'b' });
    // Back to a good spec: delivery resumes as revision 3.
    await applyRaw('shop', [configMap('shop-config', { mode: 'd' }), deployment('shop', 2)]);
    await appWhere(
      'shop',
      'revision 3 Ready',
      (a) => a.status?.revision === 3 && a.status.phase === 'Ready',
      ns,
      90_000,
    );
    expect(await cmData('shop-config')).toEqual({ mode: 'd' });
  });

  it('writes as the deployer ServiceAccount: where it has no rights, nothing is created', async () => {
    // A namespace labelled like a project one, but without the deployer's Role and binding.
    const bare = `bare-${suffix()}`;
    await admin.apply({
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: {
        name: bare,
        labels: {
          [LABEL_MANAGED_BY]: MANAGED_BY,
          [LABEL_TENANT]: tenant,
          [LABEL_PROJECT]: `none-${suffix()}`,
        },
      },
    });
    try {
      await applyRaw('probe', [configMap('probe', { a: '1' })], {}, bare);
      const app = await appWhere(
        'probe',
        'refused',
        (a) => condition(a, 'Degraded')?.reason === 'ForbiddenObject',
        bare,
      );
      expect(app.status?.phase).toBe('Failed');
      expect(condition(app, 'Degraded')?.message).toContain(`system:serviceaccount:${bare}:kubeop-deployer`);
      expect(
        await admin
          .get({ apiVersion: 'v1', kind: 'ConfigMap', name: 'probe', namespace: bare })
          .catch(() => undefined),
      ).toBeUndefined();
    } finally {
      await admin.delete({ apiVersion: 'v1', kind: 'Namespace', name: bare });
    }
  });

  it('an object over the project quota is refused with QuotaExceeded and nothing is created', async () => {
    await applyRaw('disk', [
      configMap('disk-config', { a: '1' }),
      {
        apiVersion: 'v1',
        kind: 'PersistentVolumeClaim',
        metadata: { name: 'disk' },
        spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '5Gi' } } },
      },
    ]);
    const app = await appWhere(
      'disk',
      'QuotaExceeded',
      (a) => condition(a, 'Degraded')?.reason === 'QuotaExceeded',
    );
    expect(app.status?.phase).toBe('Failed');
    expect(condition(app, 'Degraded')?.message).toContain(
      'v1 PersistentVolumeClaim/disk does not fit the project quota',
    );
    expect(await find('ConfigMap', 'disk-config')).toBeUndefined();
    expect(await find('PersistentVolumeClaim', 'disk')).toBeUndefined();
  });

  describe('from a remote source', () => {
    const name = `remote-${suffix()}`;
    const gitApp = (extra: Partial<App['spec']> = {}) =>
      admin.apply({
        apiVersion: API,
        kind: 'App',
        metadata: { name, namespace: ns },
        spec: { source: { git: { url: repoUrl, branch: 'main' } }, ...extra },
      });
    const data = async () =>
      ((await find('ConfigMap', `${name}-cfg`)) as { data?: Record<string, string> } | undefined)?.data;

    it('keeps the last good revision running while the repository is unreachable, then resumes', async () => {
      remote.state.objects = [configMap(`${name}-cfg`, { v: '1' }), deployment(name)];
      remote.state.revision = 'c1';
      await gitApp();
      await appWhere(
        name,
        'revision 1 Ready',
        (a) => a.status?.revision === 1 && a.status.phase === 'Ready',
        ns,
        90_000,
      );

      remote.state.reachable = false;
      remote.state.objects = [configMap(`${name}-cfg`, { v: '2' })];
      remote.state.revision = 'c2';
      expect(operator.operator.triggerGitSync(repoUrl)).toBe(1);
      expect(operator.operator.triggerGitSync('https://git.test.invalid/other.git')).toBe(0);
      const app = await appWhere(
        name,
        'SourceUnreachable',
        (a) => condition(a, 'Degraded')?.reason === 'SourceUnreachable',
      );
      expect(app.status?.phase).toBe('Degraded');
      expect(app.status?.revision).toBe(1);
      expect(await data()).toEqual({ v: '1' });
      expect(await find('Deployment', name, 'apps/v1')).toBeDefined();

      remote.state.reachable = true;
      operator.operator.triggerGitSync(repoUrl);
      const next = await appWhere(
        name,
        'revision 2',
        (a) => a.status?.revision === 2 && a.status.phase === 'Ready',
      );
      expect(next.status?.sourceRevision).toBe('c2');
      expect(await data()).toEqual({ v: '2' });
      await eventually('Deployment pruned', async () =>
        (await find('Deployment', name, 'apps/v1')) ? undefined : true,
      );
    });

    it('rolls back to a listed revision from storage, without asking the source, and refuses an unknown one', async () => {
      await appWhere(name, 'revision 2', (a) => a.status?.revision === 2);
      remote.state.reachable = false;
      const renders = remote.state.renders;
      await gitApp({ rollbackTo: 1 });
      const app = await appWhere(
        name,
        'rolled back',
        (a) => a.status?.revision === 3 && a.status.phase === 'Ready',
        ns,
        90_000,
      );
      expect(app.status?.sourceRevision).toBe('c1');
      expect(app.status?.history?.[0]).toMatchObject({ revision: 3, sourceRevision: 'c1', rollbackOf: 1 });
      expect(await data()).toEqual({ v: '1' });
      expect(await find('Deployment', name, 'apps/v1')).toBeDefined();
      expect(remote.state.renders).toBe(renders);
      await eventFor(name, 'RolledBack');

      await gitApp({ rollbackTo: 99 });
      const missing = await appWhere(
        name,
        'RevisionNotFound',
        (a) => condition(a, 'Degraded')?.reason === 'RevisionNotFound',
      );
      expect(condition(missing, 'Degraded')?.message).toContain(
        'spec.rollbackTo names revision 99, which is not kept (kept: 3, 2, 1)',
      );
      expect(missing.status?.revision).toBe(3);
      expect(await data()).toEqual({ v: '1' });
      remote.state.reachable = true;
    });

    it('an App of a source type this operator does not run says so', async () => {
      await admin.apply({
        apiVersion: API,
        kind: 'App',
        metadata: { name: 'charted', namespace: ns },
        spec: { source: { helm: { chart: 'oci://registry.test.invalid/charts/web' } } },
      });
      const app = await appWhere(
        'charted',
        'RenderFailed',
        (a) => condition(a, 'Degraded')?.reason === 'RenderFailed',
      );
      // Unless a helm source is wired into the test operator by default, in which case it fails to fetch.
      expect(condition(app, 'Degraded')?.message).toMatch(
        /source type helm is not enabled on this operator|registry\.test\.invalid/,
      );
    });
  });

  it('delivers an image App through the same pipeline and reports where it is reached', async () => {
    await admin.apply({
      apiVersion: API,
      kind: 'App',
      metadata: { name: 'web', namespace: ns },
      spec: {
        source: { image: { ref: 'registry.example/web:1.0' } },
        ports: [{ containerPort: 8080 }],
        expose: { hosts: ['web.example.com'], tls: { mode: 'None' } },
      },
    });
    const app = await appWhere('web', 'Ready', (a) => a.status?.phase === 'Ready', ns, 90_000);
    expect(app.status?.sourceRevision).toBe('registry.example/web:1.0');
    expect(app.status?.url).toBe('http://web.example.com/');
    expect(app.status?.inventory?.map((i) => i.kind).sort()).toEqual(['Deployment', 'Ingress', 'Service']);
    const ingress = await admin.get({
      apiVersion: 'networking.k8s.io/v1',
      kind: 'Ingress',
      name: 'web',
      namespace: ns,
    });
    expect(ingress.metadata.labels?.[LABEL_APP]).toBe('web');
  });

  it('deleting the App removes what it delivered', async () => {
    await applyRaw('temp', [configMap('temp-config', { a: '1' })]);
    await appWhere('temp', 'Ready', (a) => a.status?.phase === 'Ready');
    await admin.delete({ apiVersion: API, kind: 'App', name: 'temp', namespace: ns });
    await eventually(
      'ConfigMap collected',
      async () => ((await find('ConfigMap', 'temp-config')) ? undefined : true),
      60_000,
    );
  });
});
