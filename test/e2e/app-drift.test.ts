import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:https';
import { KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { projectNamespace } from '../../src/domain/naming.ts';
import { KubeClient } from '../../src/kube/client.ts';
import { createCertificateAuthority, issueCertificate } from '../../src/platform/pki.ts';
import type { App, Project } from '../../src/schemas/crds/types.ts';
import type { KubeObject } from '../../src/schemas/kube-object.ts';
import { eventually, kubeconfigPath } from '../support/e2e.ts';
import { installKubeop, startOperatorInProcess } from '../support/operator.ts';

const API = 'paas.kubeop.io/v1alpha1';
const suffix = () => randomBytes(3).toString('hex');
const INJECTED = 'sidecar.e2e.kubeop.io/injected';
const RESYNC_MS = 1500;

const restrictedContainer = (name: string, image: string) => ({
  name,
  image,
  resources: { requests: { cpu: '50m', memory: '32Mi' }, limits: { cpu: '50m', memory: '32Mi' } },
  securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
});

const deployment = (image: string): KubeObject => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'web', labels: { tier: 'front' } },
  spec: {
    replicas: 1,
    selector: { matchLabels: { run: 'web' } },
    template: {
      metadata: { labels: { run: 'web' } },
      spec: {
        securityContext: { runAsNonRoot: true, runAsUser: 1000, seccompProfile: { type: 'RuntimeDefault' } },
        containers: [restrictedContainer('app', image)],
      },
    },
  },
});

const configMap = (name: string, annotations?: Record<string, string>): KubeObject => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, ...(annotations ? { annotations } : {}) },
  data: { k: name },
});

interface Review {
  request: {
    uid: string;
    object: KubeObject & { spec: { template: { spec: { containers: Array<{ name: string }> } } } };
  };
}

/**
 * A sidecar injector as clusters run them (Istio, Linkerd, Vault agents): a mutating webhook that
 * appends a `proxy` container and an annotation to every Deployment it sees created or updated.
 */
function injectorResponse(review: Review): Record<string, unknown> {
  const obj = review.request.object;
  const patch: unknown[] = [];
  if (!obj.spec.template.spec.containers.some((c) => c.name === 'proxy')) {
    patch.push({
      op: 'add',
      path: '/spec/template/spec/containers/-',
      value: restrictedContainer('proxy', 'registry.example/proxy:1'),
    });
  }
  if (!obj.metadata.annotations) patch.push({ op: 'add', path: '/metadata/annotations', value: {} });
  patch.push({ op: 'add', path: `/metadata/annotations/${INJECTED.replace('/', '~1')}`, value: 'true' });
  return {
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    response: {
      uid: review.request.uid,
      allowed: true,
      patchType: 'JSONPatch',
      patch: Buffer.from(JSON.stringify(patch)).toString('base64'),
    },
  };
}

interface EventItem {
  reason: string;
  note: string;
  regarding: { kind: string; name: string };
  series?: { count: number; lastObservedTime: string };
}

describe.skipIf(!kubeconfigPath)('App drift next to a mutating webhook, on the real API server', () => {
  let admin: KubeClient;
  let operator: Awaited<ReturnType<typeof startOperatorInProcess>>;
  let server: Server;
  let calls = 0;
  const tenant = `drift-${suffix()}`;
  const project = `apps-${suffix()}`;
  const ns = projectNamespace(tenant, project);
  const webhookName = `e2e-sidecar-${suffix()}`;

  beforeAll(async () => {
    await installKubeop(kubeconfigPath!);
    const kc = new KubeConfig();
    kc.loadFromFile(kubeconfigPath!);
    admin = new KubeClient(kc, { fieldManager: 'e2e-test' });

    const ca = await createCertificateAuthority('e2e-sidecar-ca');
    const leaf = await issueCertificate(ca, {
      commonName: '127.0.0.1',
      ipAddresses: ['127.0.0.1'],
      usage: 'server',
    });
    server = createServer({ cert: leaf.certPem, key: leaf.keyPem }, (req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        calls++;
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify(injectorResponse(JSON.parse(body) as Review)));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    await admin.request('POST', '/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations', {
      body: {
        apiVersion: 'admissionregistration.k8s.io/v1',
        kind: 'MutatingWebhookConfiguration',
        metadata: { name: webhookName },
        webhooks: [
          {
            name: 'sidecar.e2e.kubeop.io',
            admissionReviewVersions: ['v1'],
            sideEffects: 'None',
            failurePolicy: 'Fail',
            timeoutSeconds: 5,
            clientConfig: {
              url: `https://127.0.0.1:${port}/mutate`,
              caBundle: Buffer.from(ca.certPem).toString('base64'),
            },
            namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': ns } },
            rules: [
              {
                apiGroups: ['apps'],
                apiVersions: ['v1'],
                operations: ['CREATE', 'UPDATE'],
                resources: ['deployments'],
              },
            ],
          },
        ],
      },
    });

    operator = await startOperatorInProcess(kubeconfigPath!, { delivery: { resyncMs: RESYNC_MS } });
    await admin.apply({
      apiVersion: API,
      kind: 'Tenant',
      metadata: { name: tenant },
      spec: { owners: [{ kind: 'User', name: 'owner' }], quota: { cpu: '4', memory: '8Gi', pods: 20 } },
    });
    await admin.apply({
      apiVersion: API,
      kind: 'Project',
      metadata: { name: project },
      spec: { tenantRef: { name: tenant }, quota: { cpu: '2', memory: '4Gi', pods: 10 } },
    });
    await eventually(
      `project ${project} Ready`,
      async () => {
        const p = await admin.get<Project>({ apiVersion: API, kind: 'Project', name: project });
        return p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ? p : undefined;
      },
      90_000,
    );
    // The API server picks up a new webhook configuration within a moment: dry-run until it mutates.
    await eventually('the sidecar webhook to mutate Deployments', async () => {
      const probe = await admin.request<KubeObject>(
        'POST',
        `/apis/apps/v1/namespaces/${ns}/deployments?dryRun=All`,
        { body: { ...deployment('registry.example/probe:1'), metadata: { name: 'probe', namespace: ns } } },
      );
      return probe.metadata.annotations?.[INJECTED] === 'true' ? true : undefined;
    });
  }, 180_000);

  afterAll(async () => {
    await admin
      ?.request(
        'DELETE',
        `/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations/${webhookName}`,
      )
      .catch(() => {});
    server?.close();
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

  const getApp = () => admin.get<App>({ apiVersion: API, kind: 'App', name: 'shop', namespace: ns });
  const getDeployment = () =>
    admin.get<
      KubeObject & { spec: { template: { spec: { containers: Array<{ name: string; image: string }> } } } }
    >({ apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', namespace: ns });
  const ready = (a: App) =>
    a.status?.observedGeneration === a.metadata.generation &&
    a.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true;
  const drift = () => operator.metric('kubeop_drift_corrected_total', { controller: 'app' });
  const deploymentApplies = () =>
    operator.metric('kubeop_kube_writes_total', { verb: 'apply', kind: 'Deployment' });
  const appReconciles = () => operator.metric('kubeop_controller_reconcile_total', { controller: 'app' });
  async function appEvents(reason: string): Promise<EventItem[]> {
    const list = await admin.request<{ items: EventItem[] }>(
      'GET',
      `/apis/events.k8s.io/v1/namespaces/${ns}/events`,
    );
    return list.items.filter(
      (e) => e.regarding.kind === 'App' && e.regarding.name === 'shop' && e.reason === reason,
    );
  }
  const applyApp = (manifests: KubeObject[]) =>
    admin.apply({
      apiVersion: API,
      kind: 'App',
      metadata: { name: 'shop', namespace: ns },
      spec: { source: { raw: { manifests } } },
    });

  it('a sidecar and an annotation added by a webhook are no drift: Ready, nothing counted or reported over resyncs', async () => {
    await applyApp([
      deployment('registry.example/app:1'),
      configMap('settings'),
      configMap('keep-me', { 'paas.kubeop.io/prune': 'false' }),
    ]);
    await eventually('App shop Ready', async () => ((await getApp().then(ready)) ? true : undefined), 90_000);
    const live = await getDeployment();
    // The webhook really acted on kubeOP's Deployment.
    expect(live.spec.template.spec.containers.map((c) => c.name).sort()).toEqual(['app', 'proxy']);
    expect(live.metadata.annotations?.[INJECTED]).toBe('true');
    expect(calls).toBeGreaterThan(0);

    // Several resyncs (each one a reconcile of the App, every RESYNC_MS).
    const applied = await deploymentApplies();
    const start = await appReconciles();
    await eventually(
      'five more reconciles of the App',
      async () => ((await appReconciles()) >= start + 5 ? true : undefined),
      30_000,
    );
    expect(await drift()).toBe(0);
    expect(await appEvents('DriftCorrected')).toEqual([]);
    const after = await getApp();
    expect(ready(after)).toBe(true);
    expect(after.status?.driftCorrections ?? 0).toBe(0);
    // Not re-applied either: kubeOP sent no write of the Deployment during those resyncs.
    expect(await deploymentApplies()).toBe(applied);
  });

  it('a hand edit of the image of kubeOP’s container is set back, counted, and reported as one Event series', async () => {
    const handEdit = (image: string) =>
      admin.request('PATCH', `/apis/apps/v1/namespaces/${ns}/deployments/web?fieldManager=kubectl-edit`, {
        body: { spec: { template: { spec: { containers: [{ name: 'app', image }] } } } },
        contentType: 'application/strategic-merge-patch+json',
      });
    await handEdit('registry.example/app:evil');
    await eventually('the image set back', async () => {
      const d = await getDeployment();
      return d.spec.template.spec.containers.find((c) => c.name === 'app')?.image === 'registry.example/app:1'
        ? d
        : undefined;
    });
    await eventually('drift counted once', async () => ((await drift()) === 1 ? true : undefined));
    await eventually('a DriftCorrected Event', async () =>
      (await appEvents('DriftCorrected')).length === 1 ? true : undefined,
    );
    expect((await getDeployment()).spec.template.spec.containers.map((c) => c.name).sort()).toEqual([
      'app',
      'proxy',
    ]);

    // The same drift again: counted again, but folded into the same Event.
    await handEdit('registry.example/app:evil');
    await eventually('drift counted twice', async () => ((await drift()) === 2 ? true : undefined));
    const events = await eventually('the Event series counting 2', async () => {
      const e = await appEvents('DriftCorrected');
      return e[0]?.series?.count === 2 ? e : undefined;
    });
    expect(events).toHaveLength(1);
    expect(events[0]!.note).toBe('Deployment/web was changed outside kubeOP and has been restored');
    await eventually(
      'App shop Ready again',
      async () => ((await getApp().then(ready)) ? true : undefined),
      60_000,
    );
    expect((await getApp()).status?.driftCorrections).toBe(2);
  });

  it('prunes what left the rendering, except an object annotated paas.kubeop.io/prune: "false"', async () => {
    await applyApp([deployment('registry.example/app:1')]);
    const find = (name: string) => admin.find({ apiVersion: 'v1', kind: 'ConfigMap', name, namespace: ns });
    await eventually('ConfigMap settings pruned', async () => ((await find('settings')) ? undefined : true));
    await eventually('a PruneSkipped Event', async () =>
      (await appEvents('PruneSkipped')).length === 1 ? true : undefined,
    );
    // Still there after more resyncs, and reported as one Event however often it is skipped.
    const start = await appReconciles();
    await eventually(
      'three more reconciles',
      async () => ((await appReconciles()) >= start + 3 ? true : undefined),
      30_000,
    );
    expect(await find('keep-me')).toBeDefined();
    const skipped = await appEvents('PruneSkipped');
    expect(skipped).toHaveLength(1);
    expect(skipped[0]!.note).toBe(
      'kept ConfigMap/keep-me, not part of revision 2: it is annotated paas.kubeop.io/prune: "false"',
    );
    expect(skipped[0]!.series?.count ?? 1).toBeGreaterThanOrEqual(2);
  });
});
