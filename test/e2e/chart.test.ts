import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { KubeConfig } from '@kubernetes/client-node';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { FIELD_MANAGER, startAdmission } from '../../src/admission/admission.ts';
import { kubeSecretStore, SelfManagedCertificates } from '../../src/admission/certificates/self-managed.ts';
import { createAdmissionMetrics } from '../../src/admission/metrics.ts';
import { projectNamespace } from '../../src/domain/naming.ts';
import { issueMemberToken } from '../../src/manager/clusters/member-access.ts';
import { KubeClient } from '../../src/kube/client.ts';
import { startTenancyCaches } from '../../src/main/admission.ts';
import { createLogger } from '../../src/platform/logging.ts';
import type { KubeObject } from '../../src/schemas/kube-object.ts';
import { CHART_DIR, helmTemplate } from '../../scripts/chart-render.ts';
import { deleteTenantsAndWait } from '../support/admission.ts';
import {
  CHART_NAMESPACE,
  helm,
  helmBinary,
  installChart,
  packageChartAs,
  prepareNamespace,
  RELEASE,
  SERVICE_ACCOUNTS,
  serviceAccountKubeconfig,
  TEST_VALUES,
} from '../support/chart.ts';
import { errorOf, eventually, kubeconfigPath } from '../support/e2e.ts';
import { startOperatorInProcess } from '../support/operator.ts';

// The chart on the real API server: lint, server-side dry run, install under Pod Security
// `restricted`, the operator and admission running with the chart's ServiceAccounts (so a missing
// RBAC rule fails here), upgrade from the previous chart version, and what uninstall keeps.
const run = promisify(execFile);
const API = 'paas.kubeop.io/v1alpha1';
const suffix = Math.random().toString(16).slice(2, 8);
const TENANT = `chart-${suffix}`;
const PROJECT = `chart-web-${suffix}`;
const NAMESPACE = projectNamespace(TENANT, PROJECT);

interface Rule {
  apiGroups?: string[];
  resources?: string[];
  verbs: string[];
  resourceNames?: string[];
}
/** Every (group, resource, verb, name) a rule grants; '' as name means every name. */
const grants = (rules: Rule[]) =>
  rules.flatMap((r) =>
    (r.apiGroups ?? ['']).flatMap((g) =>
      (r.resources ?? []).flatMap((res) =>
        r.verbs.flatMap((v) =>
          (r.resourceNames?.length ? r.resourceNames : ['']).map((n) => `${g}|${res}|${v}|${n}`),
        ),
      ),
    ),
  );

async function kubectl(args: string[], input?: string) {
  const child = run('kubectl', ['--kubeconfig', kubeconfigPath!, ...args], { maxBuffer: 64 * 1024 * 1024 });
  if (input !== undefined) child.child.stdin?.end(input);
  return child;
}

describe.skipIf(!kubeconfigPath)('the Helm chart on the real API server', () => {
  let admin: KubeClient;
  let credentials: Record<keyof typeof SERVICE_ACCOUNTS, string>;
  let operator: Awaited<ReturnType<typeof startOperatorInProcess>> | undefined;
  let stopAdmission: (() => Promise<void>) | undefined;
  const dir = mkdtempSync(join(tmpdir(), 'kubeop-chart-e2e-'));
  const clientFor = (file: string) => {
    const kc = new KubeConfig();
    kc.loadFromFile(file);
    return new KubeClient(kc, { fieldManager: 'e2e-chart' });
  };

  beforeAll(async () => {
    await helmBinary();
    const kc = new KubeConfig();
    kc.loadFromFile(kubeconfigPath!);
    admin = new KubeClient(kc, { fieldManager: 'e2e-test' });
    await prepareNamespace(kubeconfigPath!);
  }, 1_200_000);

  afterAll(async () => {
    // Tenants first, while the operator still runs to work their finalizers.
    if (operator) await deleteTenantsAndWait(admin, [TENANT]).catch(() => {});
    await operator?.operator.stop();
    await stopAdmission?.();
    await helm(kubeconfigPath!, ['uninstall', RELEASE, '--namespace', CHART_NAMESPACE, '--wait']).catch(
      () => {},
    );
    await kubectl(['delete', 'secret', '-n', CHART_NAMESPACE, 'kubeop-webhook-tls', '--ignore-not-found']);
    rmSync(dir, { recursive: true, force: true });
  });

  it('passes helm lint', async () => {
    const out = await helm(kubeconfigPath!, ['lint', '--strict', CHART_DIR, ...TEST_VALUES]);
    expect(out).toContain('0 chart(s) failed');
  });

  it.each([
    ['default values', []],
    [
      'embedded database, cert-manager, API server CIDRs, metering, Git webhook, manager clients',
      [
        '--set',
        'manager.database.type=embedded',
        '--set',
        'admission.certificates.source=cert-manager',
        '--set',
        'admission.certificates.issuer=ClusterIssuer/kubeop-ca',
        '--set',
        'networkPolicy.apiServerCIDRs={10.0.0.0/8}',
        '--set',
        'operator.metering.tokenSecret=kubeop-metering',
        '--set',
        'operator.gitWebhook.existingSecret=kubeop-git-webhook',
        '--set',
        'networkPolicy.managerClients[0].namespaceSelector.matchLabels.team=platform',
      ],
    ],
  ])(
    'helm template output (%s) passes a server-side dry run with no Pod Security warning',
    async (_name, args) => {
      const manifests = helmTemplate(await helmBinary(), [...TEST_VALUES, ...args]);
      const { stdout, stderr } = await kubectl(
        ['apply', '--server-side', '--dry-run=server', '--field-manager=e2e-chart', '-f', '-'],
        manifests,
      );
      expect(stdout).toContain('deployment.apps/kubeop-operator serverside-applied (server dry run)');
      expect(stdout).toContain('clusterrole.rbac.authorization.k8s.io/kubeop-operator serverside-applied');
      expect(stderr).not.toMatch(/PodSecurity|violate/);
    },
  );

  it('installs the previous chart version; every Deployment becomes available under Pod Security restricted', async () => {
    const previous = await packageChartAs('0.0.1');
    await installChart(kubeconfigPath!, { chart: previous, args: ['--set', 'operator.replicas=1'] });
    rmSync(dirname(previous), { recursive: true, force: true });
    for (const name of ['kubeop-operator', 'kubeop-admission', 'kubeop-manager']) {
      const d = await admin.get<
        KubeObject & { spec: { replicas: number }; status?: { availableReplicas?: number } }
      >({
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        name,
        namespace: CHART_NAMESPACE,
      });
      expect(d.status?.availableReplicas, name).toBe(d.spec.replicas);
    }
    credentials = {} as typeof credentials;
    for (const [component, sa] of Object.entries(SERVICE_ACCOUNTS)) {
      credentials[component as keyof typeof SERVICE_ACCOUNTS] = await serviceAccountKubeconfig(
        kubeconfigPath!,
        sa,
        join(dir, `${component}.kubeconfig`),
      );
    }
  });

  it("the operator's ServiceAccount may do exactly the reviewed list, and nothing more", async () => {
    const reviewed = parse(
      readFileSync(`${CHART_DIR}/files/operator-clusterrole-rules.yaml`, 'utf8'),
    ) as Rule[];
    const leaseRole = [
      {
        apiGroups: ['coordination.k8s.io'],
        resources: ['leases'],
        verbs: ['get', 'update'],
        resourceNames: ['kubeop-operator'],
      },
      { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['create'] },
    ];
    // What any ServiceAccount may do without a binding of its own (system:basic-user and friends,
    // which vary by Kubernetes version): a ServiceAccount with no bindings asks the same question.
    await kubectl(['create', 'serviceaccount', 'rbac-baseline', '-n', CHART_NAMESPACE]).catch(
      () => undefined,
    );
    const baseline = clientFor(
      await serviceAccountKubeconfig(kubeconfigPath!, 'rbac-baseline', join(dir, 'baseline')),
    );
    const sa = clientFor(credentials.operator);
    const rulesOf = async (client: KubeClient, namespace: string) =>
      (
        await client.request<{ status: { resourceRules: Rule[] } }>(
          'POST',
          '/apis/authorization.k8s.io/v1/selfsubjectrulesreviews',
          {
            body: {
              apiVersion: 'authorization.k8s.io/v1',
              kind: 'SelfSubjectRulesReview',
              spec: { namespace },
            },
          },
        )
      ).status.resourceRules;
    for (const namespace of [CHART_NAMESPACE, 'default']) {
      const everyone = new Set(grants(await rulesOf(baseline, namespace)));
      const granted = new Set(grants([...reviewed, ...(namespace === CHART_NAMESPACE ? leaseRole : [])]));
      const live = new Set(grants(await rulesOf(sa, namespace)).filter((g) => !everyone.has(g)));
      const covered = (g: string) => granted.has(g) || granted.has(g.replace(/\|[^|]*$/, '|'));
      const beyond = [...live].filter((g) => !covered(g));
      expect(beyond.join(', '), `granted in ${namespace} beyond the reviewed list`).toBe('');
      // And the whole list is in force (the chart bound it).
      expect([...granted].filter((g) => !live.has(g) && !everyone.has(g))).toEqual([]);
    }
    await kubectl(['delete', 'serviceaccount', 'rbac-baseline', '-n', CHART_NAMESPACE]);
  });

  it("with only the chart's permissions, the operator makes a tenant's project Ready, with its roles", async () => {
    operator = await startOperatorInProcess(credentials.operator, { resyncMs: 10_000 });
    await admin.apply({
      apiVersion: API,
      kind: 'Tenant',
      metadata: { name: TENANT },
      spec: {
        owners: [{ kind: 'User', name: `${TENANT}-owner` }],
        quota: { cpu: '4', memory: '8Gi', pods: 20 },
      },
    });
    await admin.apply({
      apiVersion: API,
      kind: 'Project',
      metadata: { name: PROJECT },
      spec: { tenantRef: { name: TENANT }, members: [{ kind: 'User', name: 'dev', role: 'edit' }] },
    });
    await eventually(
      'project Ready',
      async () => {
        const p = await admin.get<
          KubeObject & { status?: { conditions?: Array<{ type: string; status: string }> } }
        >({
          apiVersion: API,
          kind: 'Project',
          name: PROJECT,
        });
        return p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')
          ? true
          : undefined;
      },
      90_000,
    );
    // The Roles hold more than the operator (escalate), bound to tenants (bind).
    for (const role of ['kubeop-admin', 'kubeop-edit', 'kubeop-view', 'kubeop-deployer']) {
      expect(
        await admin.find({
          apiVersion: 'rbac.authorization.k8s.io/v1',
          kind: 'Role',
          name: role,
          namespace: NAMESPACE,
        }),
      ).toBeDefined();
    }
    expect(operator.operator.synced()).toBe(true);
  });

  it("the operator's ServiceAccount impersonates the project's deployer, and no one else", async () => {
    const sa = clientFor(credentials.operator);
    const cm = (name: string): KubeObject => ({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name, namespace: NAMESPACE },
    });
    const deployer = `system:serviceaccount:${NAMESPACE}:kubeop-deployer`;
    await sa.apply(cm('delivered'), { impersonate: { user: deployer } });
    expect(
      await admin.find({ apiVersion: 'v1', kind: 'ConfigMap', name: 'delivered', namespace: NAMESPACE }),
    ).toBeDefined();
    for (const user of [
      `system:serviceaccount:${NAMESPACE}:default`,
      `system:serviceaccount:kube-system:replicaset-controller`,
      'admin',
    ]) {
      const err = await errorOf(sa.apply(cm('nope'), { impersonate: { user } }));
      expect(err.code, user).toBe(403);
      expect(err.message, user).toContain('cannot impersonate');
    }
    // As itself, the operator writes no delivered kind, and no Secret outside tenant namespaces.
    expect((await errorOf(sa.apply(cm('direct')))).code).toBe(403);
    const secret = await errorOf(
      sa.apply({
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: 'kubeop-x', namespace: 'kube-system' },
      }),
    );
    expect(secret.message).toContain(
      'the kubeOP operator may only write secrets in namespaces kubeOP manages',
    );
  });

  it("the manager's ServiceAccount issues member kubeconfigs in tenant namespaces, and tokens for nothing else", async () => {
    // Before admission runs: its managed-object rule does not trust the manager yet (see the report
    // in docs/operations/install.md); this checks the chart's RBAC and scope policy only.
    const manager = clientFor(credentials.manager);
    const issued = await issueMemberToken(manager, {
      namespace: NAMESPACE,
      actor: 'user:dev',
      role: 'edit',
      expirationSeconds: 600,
    });
    expect(issued.serviceAccount).toMatch(/^kubeop-member-edit-/);
    expect(issued.token.length).toBeGreaterThan(100);
    const outside = await errorOf(
      issueMemberToken(manager, {
        namespace: 'default',
        actor: 'user:dev',
        role: 'view',
        expirationSeconds: 600,
      }),
    );
    expect(outside.message).toContain('the kubeOP manager may only write kubeop-member-*');
    const deployerToken = await errorOf(
      manager.request('POST', `/api/v1/namespaces/${NAMESPACE}/serviceaccounts/kubeop-deployer/token`, {
        body: {
          apiVersion: 'authentication.k8s.io/v1',
          kind: 'TokenRequest',
          spec: { expirationSeconds: 600 },
        },
      }),
    );
    expect(deployerToken.code).toBe(403);
    expect(deployerToken.message).toContain('kubeop-deployer is not one');
  });

  it('the scope policy keeps the operator out of namespaces kubeOP does not manage, where RBAC alone would not', async () => {
    const sa = clientFor(credentials.operator);
    const role = (namespace: string): KubeObject =>
      ({
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'Role',
        metadata: { name: 'kubeop-admin', namespace },
        rules: [{ apiGroups: [''], resources: ['secrets'], verbs: ['get', 'list'] }],
      }) as KubeObject;
    const outside = await errorOf(sa.apply(role('default')));
    expect(outside.code).toBe(403);
    expect(outside.message).toContain(
      'the kubeOP operator may only write roles in namespaces kubeOP manages',
    );
    // In the tenant namespace the same write passes both: the operator wrote these Roles above.
    const adopt = await errorOf(
      sa.mergePatch(
        { apiVersion: 'v1', kind: 'Namespace', name: 'default' },
        {
          metadata: { labels: { 'app.kubernetes.io/managed-by': 'kubeop', 'paas.kubeop.io/tenant': TENANT } },
        },
      ),
    );
    expect(adopt.code).toBe(403);
    expect(adopt.message).toContain('default is not one');
  });

  it("admission with the chart's ServiceAccount fills in the chart's webhook configurations and the API server calls it", async () => {
    const kc = new KubeConfig();
    kc.loadFromFile(credentials.admission);
    const logger = createLogger({
      service: 'e2e-chart-admission',
      level: process.env.KUBEOP_TEST_LOG_LEVEL ?? 'silent',
    });
    const client = new KubeClient(kc, { fieldManager: FIELD_MANAGER });
    const caches = await startTenancyCaches(kc, logger);
    const admission = await startAdmission({
      client,
      view: caches.view,
      source: new SelfManagedCertificates({
        secrets: kubeSecretStore(client, CHART_NAMESPACE, 'kubeop-webhook-tls'),
        namespace: CHART_NAMESPACE,
        secretName: 'kubeop-webhook-tls',
        names: { dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] },
        policy: { leafValidityMs: 24 * 3_600_000, caValidityMs: 30 * 86_400_000, overlapMs: 60_000 },
        logger,
      }),
      listen: { host: '127.0.0.1', port: 0 },
      endpoint: (port) => ({ url: `https://127.0.0.1:${port}` }),
      systemNamespace: CHART_NAMESPACE,
      trusted: { operatorUsername: `system:serviceaccount:${CHART_NAMESPACE}:${SERVICE_ACCOUNTS.operator}` },
      imagePullPolicy: 'Always',
      timeoutSeconds: 5,
      checkIntervalMs: 60_000,
      logger,
      metrics: createAdmissionMetrics(new Registry()),
    });
    stopAdmission = async () => {
      await admission.stop();
      caches.stop();
    };
    const validating = await admin.get<KubeObject & { webhooks?: unknown[] }>({
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'ValidatingWebhookConfiguration',
      name: 'kubeop-validating',
    });
    expect(validating.webhooks?.length).toBeGreaterThan(3);
    const nodePort: KubeObject = {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'np', namespace: NAMESPACE },
      spec: { type: 'NodePort', ports: [{ port: 80 }] },
    } as KubeObject;
    const denied = await eventually('the services webhook to deny a NodePort Service', async () => {
      const err = await admin.apply(nodePort).then(
        () => undefined,
        (e: Error) => e,
      );
      return err?.message.includes('service-type') ? err : undefined;
    });
    expect(denied.message).toContain('kubeOP rule service-type');
  });

  it('helm upgrade from the previous version keeps tenants, projects, apps and the webhooks admission wrote', async () => {
    const app: KubeObject = {
      apiVersion: API,
      kind: 'App',
      metadata: { name: 'web', namespace: NAMESPACE },
      spec: { source: { image: { ref: 'registry.example/web:1' } } },
    } as KubeObject;
    await admin.apply(app).catch(() => undefined);
    const before = await Promise.all([
      admin.get({ apiVersion: API, kind: 'Tenant', name: TENANT }),
      admin.get({ apiVersion: API, kind: 'Project', name: PROJECT }),
      admin.find({ apiVersion: API, kind: 'App', name: 'web', namespace: NAMESPACE }),
      admin.get({ apiVersion: 'v1', kind: 'Namespace', name: NAMESPACE }),
    ]);
    const webhooksBefore = await admin.get<KubeObject & { webhooks?: unknown[] }>({
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'ValidatingWebhookConfiguration',
      name: 'kubeop-validating',
    });
    const out = await installChart(kubeconfigPath!, {
      upgrade: true,
      args: ['--set', 'operator.replicas=2'],
    });
    expect(out).toMatch(/REVISION: 2/);
    const history = await helm(kubeconfigPath!, [
      'history',
      RELEASE,
      '--namespace',
      CHART_NAMESPACE,
      '-o',
      'json',
    ]);
    expect((JSON.parse(history) as Array<{ chart: string }>).map((h) => h.chart)).toEqual([
      'kubeop-0.0.1',
      'kubeop-0.1.0',
    ]);
    const after = await Promise.all([
      admin.get({ apiVersion: API, kind: 'Tenant', name: TENANT }),
      admin.get({ apiVersion: API, kind: 'Project', name: PROJECT }),
      admin.find({ apiVersion: API, kind: 'App', name: 'web', namespace: NAMESPACE }),
      admin.get({ apiVersion: 'v1', kind: 'Namespace', name: NAMESPACE }),
    ]);
    expect(before[2], 'the App was created').toBeDefined();
    after.forEach((obj, i) => {
      expect(obj?.metadata.uid).toBe(before[i]?.metadata.uid);
      expect((obj as { spec?: unknown } | undefined)?.spec).toEqual(
        (before[i] as { spec?: unknown } | undefined)?.spec,
      );
    });
    const webhooksAfter = await admin.get<KubeObject & { webhooks?: unknown[] }>({
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'ValidatingWebhookConfiguration',
      name: 'kubeop-validating',
    });
    expect(webhooksAfter.webhooks).toEqual(webhooksBefore.webhooks);
    const operatorDeployment = await admin.get<KubeObject & { status?: { availableReplicas?: number } }>({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      name: 'kubeop-operator',
      namespace: CHART_NAMESPACE,
    });
    expect(operatorDeployment.status?.availableReplicas).toBe(2);
  });

  it('helm uninstall removes the components and webhook configurations, and keeps CRDs, tenants and their namespaces', async () => {
    await stopAdmission?.();
    stopAdmission = undefined;
    await helm(kubeconfigPath!, ['uninstall', RELEASE, '--namespace', CHART_NAMESPACE, '--wait']);
    const gone = [
      { apiVersion: 'apps/v1', kind: 'Deployment', name: 'kubeop-operator', namespace: CHART_NAMESPACE },
      {
        apiVersion: 'admissionregistration.k8s.io/v1',
        kind: 'ValidatingWebhookConfiguration',
        name: 'kubeop-validating',
      },
      {
        apiVersion: 'admissionregistration.k8s.io/v1',
        kind: 'MutatingWebhookConfiguration',
        name: 'kubeop-mutating',
      },
    ];
    for (const ref of gone) expect(await admin.find(ref), ref.kind).toBeUndefined();
    const clusterRole = await errorOf(
      admin.request('GET', '/apis/rbac.authorization.k8s.io/v1/clusterroles/kubeop-operator'),
    );
    expect(clusterRole.code).toBe(404);
    const kept = [
      { apiVersion: API, kind: 'Tenant', name: TENANT },
      { apiVersion: API, kind: 'Project', name: PROJECT },
      { apiVersion: 'v1', kind: 'Namespace', name: NAMESPACE },
      { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', name: 'kubeop-edit', namespace: NAMESPACE },
    ];
    for (const ref of kept) expect(await admin.find(ref), ref.kind).toBeDefined();
    await admin.request(
      'GET',
      '/apis/apiextensions.k8s.io/v1/customresourcedefinitions/tenants.paas.kubeop.io',
    );
  });
});
