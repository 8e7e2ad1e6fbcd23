import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { projectNamespace } from '../../src/domain/naming.ts';
import { KubeClient } from '../../src/kube/client.ts';
import type { App, Project } from '../../src/schemas/crds/types.ts';
import type { KubeObject } from '../../src/schemas/kube-object.ts';
import {
  chartFixture,
  helmCli,
  packageChart,
  startChartRepo,
  testHelmBinary,
  type ChartRepo,
} from '../support/chart-repo.ts';
import { eventually, kubeconfigPath } from '../support/e2e.ts';
import type { Started } from '../support/kubeop-process.ts';
import { startOciRegistry, type OciRegistry } from '../support/oci-registry.ts';
import { installKubeop, startOperatorProcess } from '../support/operator.ts';

const API = 'paas.kubeop.io/v1alpha1';
const suffix = () => randomBytes(3).toString('hex');
const helm = testHelmBinary();

/**
 * The helm source through the real `kubeop operator` executable (KUBEOP_HELM_* settings, the helm
 * built with the control plane): a chart from a repository served on 127.0.0.1 becomes a Ready App,
 * a version bump is a new revision, and a missing version leaves the running one in place.
 */
describe.skipIf(!kubeconfigPath || !helm)('App from a Helm chart repository', () => {
  const tenant = `helm-${suffix()}`;
  const project = `shop-${suffix()}`;
  const ns = projectNamespace(tenant, project);
  let admin: KubeClient;
  let repo: ChartRepo;
  let registry: OciRegistry;
  let operator: Started;
  let cacheDir: string;

  beforeAll(async () => {
    await installKubeop(kubeconfigPath!);
    const kc = new KubeConfig();
    kc.loadFromFile(kubeconfigPath!);
    admin = new KubeClient(kc, { fieldManager: 'e2e-test' });
    repo = await startChartRepo(helm!, [{ name: 'web', versions: ['1.0.0'] }]);
    cacheDir = await mkdtemp(join(tmpdir(), 'kubeop-e2e-helm-cache-'));
    registry = await startOciRegistry();
    const tgz = await packageChart(helm!, chartFixture('web'), '1.0.0', join(cacheDir, 'packages'));
    await helmCli(helm!, ['push', tgz, `oci://${registry.host}/charts`, '--plain-http'], cacheDir);
    operator = await startOperatorProcess(kubeconfigPath!, {
      KUBEOP_LEADER_ELECT: 'false',
      KUBEOP_HELM_BINARY: helm!,
      KUBEOP_HELM_CACHE_DIR: cacheDir,
      KUBEOP_HELM_TIMEOUT_SECONDS: '20',
    });
    await admin.apply({
      apiVersion: API,
      kind: 'Tenant',
      metadata: { name: tenant },
      spec: { owners: [{ kind: 'User', name: 'owner' }] },
    });
    await admin.apply({
      apiVersion: API,
      kind: 'Project',
      metadata: { name: project },
      spec: { tenantRef: { name: tenant } },
    });
    await eventually(
      `project ${project} Ready`,
      async () => {
        const p = await admin.get<Project>({ apiVersion: API, kind: 'Project', name: project });
        return p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ? p : undefined;
      },
      90_000,
    );
    await admin.apply({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'shop-values', namespace: ns },
      data: { 'values.yaml': 'replicaCount: 2\nmessage: from-configmap\n' },
    });
  });
  afterAll(async () => {
    await admin?.delete({ apiVersion: API, kind: 'Project', name: project }).catch(() => {});
    await admin?.delete({ apiVersion: API, kind: 'Tenant', name: tenant }).catch(() => {});
    await operator?.stop();
    await repo?.close();
    await registry?.close();
    if (cacheDir) await rm(cacheDir, { recursive: true, force: true });
  });

  const getApp = () => admin.get<App>({ apiVersion: API, kind: 'App', name: 'shop', namespace: ns });
  const deployment = () =>
    admin.get<KubeObject & { spec: { replicas: number } }>({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      name: 'shop',
      namespace: ns,
    });
  const condition = (a: App, type: string) => a.status?.conditions?.find((c) => c.type === type);
  const applyApp = (version: string) =>
    admin.apply({
      apiVersion: API,
      kind: 'App',
      metadata: { name: 'shop', namespace: ns },
      spec: {
        source: {
          helm: {
            repoURL: repo.url,
            chart: 'web',
            version,
            valuesFrom: [{ kind: 'ConfigMap', name: 'shop-values' }],
            values: { message: 'inline' },
          },
        },
      },
    });

  it('runs a chart App until Ready, with the chart objects and merged values', async () => {
    await applyApp('^1.0.0');
    const app = await eventually(
      'chart App Ready',
      async () => {
        const a = await getApp();
        return condition(a, 'Ready')?.status === 'True' ? a : undefined;
      },
      120_000,
    );
    expect(app.status?.sourceRevision).toBe('web@1.0.0');
    expect(app.status?.revision).toBe(1);
    expect(app.status?.inventory?.map((i) => `${i.kind}/${i.name}`).sort()).toEqual([
      'ConfigMap/shop-settings',
      'Deployment/shop',
      'Service/shop',
    ]);
    const d = await deployment();
    expect(d.spec.replicas).toBe(2);
    expect(d.metadata.labels?.['app.kubernetes.io/version']).toBe('1.0.0');
    const settings = await admin.get<KubeObject & { data: Record<string, string> }>({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      name: 'shop-settings',
      namespace: ns,
    });
    expect(settings.data).toMatchObject({ message: 'inline', namespace: ns, lookup: 'empty' });
    // .Capabilities.KubeVersion is the cluster's, not helm's compiled-in default.
    const server = await admin.request<{ gitVersion: string }>('GET', '/version');
    expect(settings.data.kubeVersion).toBe(/^v\d+\.\d+\.\d+/.exec(server.gitVersion)?.[0]);
    // The hook Job was left out, not applied.
    await expect(
      admin.get({ apiVersion: 'batch/v1', kind: 'Job', name: 'shop-migrate', namespace: ns }),
    ).rejects.toThrow();
  });

  it('upgrades to a newly published version when the App asks for it', async () => {
    await repo.addVersion('web', '1.1.0');
    await applyApp('1.1.0');
    const app = await eventually(
      'version 1.1.0 delivered',
      async () => {
        const a = await getApp();
        const d = await deployment();
        return a.status?.sourceRevision === 'web@1.1.0' &&
          d.metadata.labels?.['app.kubernetes.io/version'] === '1.1.0' &&
          condition(a, 'Ready')?.status === 'True'
          ? a
          : undefined;
      },
      120_000,
    );
    expect(app.status?.revision).toBe(2);
    expect(app.status?.history?.map((h) => h.sourceRevision)).toEqual(['web@1.1.0', 'web@1.0.0']);
  });

  it('keeps the running revision and says what to fix when the version does not exist', async () => {
    await applyApp('9.9.9');
    const app = await eventually(
      'missing version reported',
      async () => {
        const a = await getApp();
        return condition(a, 'Degraded')?.status === 'True' ? a : undefined;
      },
      60_000,
    );
    const degraded = condition(app, 'Degraded')!;
    expect(degraded.reason).toBe('RevisionNotFound');
    expect(degraded.message).toContain('no version matching "9.9.9"');
    expect(degraded.message).toContain('1.1.0, 1.0.0');
    expect(app.status?.sourceRevision).toBe('web@1.1.0');
    expect(app.status?.revision).toBe(2);
    expect((await deployment()).metadata.labels?.['app.kubernetes.io/version']).toBe('1.1.0');
  });

  it('keeps the running revision while the repository is down, and retries', async () => {
    repo.failWith = 503;
    try {
      await applyApp('^1.1');
      const app = await eventually(
        'unreachable repository reported',
        async () => {
          const a = await getApp();
          return condition(a, 'Degraded')?.reason === 'SourceUnreachable' ? a : undefined;
        },
        60_000,
      );
      expect(condition(app, 'Degraded')?.message).toContain('answered HTTP 503');
      expect(app.status?.sourceRevision).toBe('web@1.1.0');
      expect((await deployment()).metadata.labels?.['app.kubernetes.io/version']).toBe('1.1.0');
    } finally {
      repo.failWith = undefined;
    }
    // Retried with backoff: once the repository answers again the App recovers by itself.
    await eventually(
      'recovered after the repository came back',
      async () => {
        const a = await getApp();
        return condition(a, 'Ready')?.status === 'True' && !(condition(a, 'Degraded')?.status === 'True')
          ? a
          : undefined;
      },
      120_000,
    );
  });

  it('runs a chart from an OCI registry', async () => {
    await admin.apply({
      apiVersion: API,
      kind: 'App',
      metadata: { name: 'shop-oci', namespace: ns },
      spec: { source: { helm: { chart: `oci://${registry.host}/charts/web`, version: '^1' } } },
    });
    const app = await eventually(
      'OCI chart App Ready',
      async () => {
        const a = await admin.get<App>({ apiVersion: API, kind: 'App', name: 'shop-oci', namespace: ns });
        return condition(a, 'Ready')?.status === 'True' ? a : undefined;
      },
      120_000,
    );
    expect(app.status?.sourceRevision).toBe('web@1.0.0');
    expect(app.status?.inventory?.map((i) => i.name).sort()).toEqual([
      'shop-oci',
      'shop-oci',
      'shop-oci-settings',
    ]);
  });

  it('refuses a chart name without a repository, saying what to set', async () => {
    const err = await admin
      .apply({
        apiVersion: API,
        kind: 'App',
        metadata: { name: 'no-repo', namespace: ns },
        spec: { source: { helm: { chart: 'web' } } },
      })
      .then(
        () => undefined,
        (e: unknown) => e as Error,
      );
    expect(err?.message).toContain(
      'set source.helm.repoURL with a chart name, or give source.helm.chart as a full oci:// reference',
    );
  });
});
