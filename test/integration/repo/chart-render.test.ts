import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { CHART_DIR } from '../../../scripts/chart-render.ts';
import { helmBinary } from '../../support/chart.ts';

// The chart rendered by the real helm (no cluster): what each values choice produces, and that bad
// values fail at install with a message naming the value. The cluster-side proof (server-side dry
// run, install, RBAC, Pod Security) is test/e2e/chart.test.ts.
const run = promisify(execFile);

interface Obj {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  [key: string]: unknown;
}
interface Rule {
  apiGroups?: string[];
  resources?: string[];
  verbs: string[];
  resourceNames?: string[];
}
interface Container {
  name: string;
  args?: string[];
  env?: Array<{ name: string; value?: string; valueFrom?: unknown }>;
  securityContext?: Record<string, unknown>;
  livenessProbe?: { httpGet?: { path: string } };
  readinessProbe?: { httpGet?: { path: string } };
}
interface PodSpec {
  securityContext?: Record<string, unknown>;
  containers: Container[];
  volumes?: Array<Record<string, unknown>>;
  serviceAccountName?: string;
}

let helm: string;
beforeAll(async () => {
  helm = await helmBinary();
}, 1_200_000);

async function render(...set: string[]): Promise<Obj[]> {
  const args = ['template', 'kubeop', CHART_DIR, '--namespace', 'kubeop-system'];
  for (const s of set) args.push('--set', s);
  const { stdout } = await run(helm, args, { maxBuffer: 64 * 1024 * 1024 });
  return parseAllDocuments(stdout)
    .map((d) => d.toJS() as Obj | null)
    .filter((o): o is Obj => !!o);
}
async function renderError(...set: string[]): Promise<string> {
  return render(...set).then(
    () => {
      throw new Error(`helm template accepted ${set.join(' ')}`);
    },
    (err: { stderr?: string }) => err.stderr ?? String(err),
  );
}
const find = (objs: Obj[], kind: string, name: string) =>
  objs.find((o) => o.kind === kind && o.metadata.name === name);
const podSpec = (d: Obj) => (d.spec as { template: { spec: PodSpec } }).template.spec;
const env = (c: Container, name: string) => c.env?.find((e) => e.name === name);

describe('the chart with default values', () => {
  let objs: Obj[];
  beforeAll(async () => {
    objs = await render();
  });

  it('runs the operator, admission and manager from one image, the command picking the component', () => {
    const deployments = objs.filter((o) => o.kind === 'Deployment');
    expect(deployments.map((d) => d.metadata.name).sort()).toEqual([
      'kubeop-admission',
      'kubeop-manager',
      'kubeop-operator',
    ]);
    for (const d of deployments) {
      const [c] = podSpec(d).containers;
      expect(c!.args).toEqual([d.metadata.name.replace('kubeop-', '')]);
    }
  });

  it('grants the operator exactly the reviewed list in files/operator-clusterrole-rules.yaml', () => {
    const reviewed = parse(
      readFileSync(`${CHART_DIR}/files/operator-clusterrole-rules.yaml`, 'utf8'),
    ) as Rule[];
    expect((find(objs, 'ClusterRole', 'kubeop-operator') as unknown as { rules: Rule[] }).rules).toEqual(
      reviewed,
    );
  });

  it('no role grants wildcards, or impersonation/escalation beyond named objects; only the operator reads Secrets cluster-wide', () => {
    const roles = objs.filter((o) => o.kind === 'ClusterRole' || o.kind === 'Role');
    expect(roles.length).toBeGreaterThanOrEqual(5);
    for (const role of roles) {
      for (const rule of (role as unknown as { rules: Rule[] }).rules) {
        const where = `${role.kind} ${role.metadata.name}: ${JSON.stringify(rule)}`;
        expect([...rule.verbs, ...(rule.resources ?? []), ...(rule.apiGroups ?? [])], where).not.toContain(
          '*',
        );
        // Only the operator reads Secrets cluster-wide (drift detection and revisions; the reviewed list).
        if (role.kind === 'ClusterRole' && role.metadata.name !== 'kubeop-operator') {
          expect(rule.resources, where).not.toContain('secrets');
        }
        if (rule.verbs.some((v) => ['impersonate', 'escalate', 'bind'].includes(v))) {
          expect(rule.resourceNames?.length, where).toBeGreaterThan(0);
        }
        if (rule.verbs.includes('impersonate')) expect(rule.resources, where).toEqual(['serviceaccounts']);
      }
    }
  });

  it('every pod passes Pod Security restricted and is probed on /healthz and /readyz', () => {
    for (const d of objs.filter((o) => o.kind === 'Deployment')) {
      const spec = podSpec(d);
      expect(spec.securityContext).toMatchObject({
        runAsNonRoot: true,
        seccompProfile: { type: 'RuntimeDefault' },
      });
      expect(spec.volumes?.some((v) => 'hostPath' in v)).toBe(false);
      for (const c of spec.containers) {
        expect(c.securityContext).toEqual({
          allowPrivilegeEscalation: false,
          readOnlyRootFilesystem: true,
          capabilities: { drop: ['ALL'] },
        });
        expect(c.livenessProbe?.httpGet?.path).toBe('/healthz');
        expect(c.readinessProbe?.httpGet?.path).toBe('/readyz');
      }
    }
  });

  it('runs the operator with leader election in its namespace, and admission trusts its ServiceAccount', () => {
    const [operator] = podSpec(find(objs, 'Deployment', 'kubeop-operator')!).containers;
    expect(env(operator!, 'KUBEOP_LEADER_ELECT')?.value).toBe('true');
    expect(env(operator!, 'KUBEOP_LEADER_ELECTION_NAMESPACE')?.value).toBe('kubeop-system');
    const admission = podSpec(find(objs, 'Deployment', 'kubeop-admission')!);
    expect(env(admission.containers[0]!, 'KUBEOP_OPERATOR_USERNAME')?.value).toBe(
      `system:serviceaccount:kubeop-system:${podSpec(find(objs, 'Deployment', 'kubeop-operator')!).serviceAccountName}`,
    );
  });

  it("confines the operator's writes with a ValidatingAdmissionPolicy naming its ServiceAccount", () => {
    const policy = find(objs, 'ValidatingAdmissionPolicy', 'kubeop-operator-scope') as unknown as {
      spec: { matchConditions: Array<{ expression: string }>; failurePolicy: string };
    };
    expect(policy.spec.failurePolicy).toBe('Fail');
    expect(policy.spec.matchConditions[0]!.expression).toBe(
      "request.userInfo.username == 'system:serviceaccount:kubeop-system:kubeop'",
    );
    expect(find(objs, 'ValidatingAdmissionPolicyBinding', 'kubeop-operator-scope')).toMatchObject({
      spec: { policyName: 'kubeop-operator-scope', validationActions: ['Deny'] },
    });
    const manager = find(objs, 'ValidatingAdmissionPolicy', 'kubeop-manager-scope') as unknown as {
      spec: { matchConditions: Array<{ expression: string }> };
    };
    expect(manager.spec.matchConditions[0]!.expression).toBe(
      "request.userInfo.username == 'system:serviceaccount:kubeop-system:kubeop-manager'",
    );
  });

  it('ships the webhook configurations empty, for admission to fill in', () => {
    for (const kind of ['ValidatingWebhookConfiguration', 'MutatingWebhookConfiguration']) {
      const config = objs.find((o) => o.kind === kind)!;
      expect(config.metadata.labels?.['app.kubernetes.io/managed-by']).toBe('kubeop');
      expect(config.webhooks).toBeUndefined();
    }
  });

  it('reads the PostgreSQL URL from a Secret, never from a value', () => {
    const [manager] = podSpec(find(objs, 'Deployment', 'kubeop-manager')!).containers;
    expect(env(manager!, 'KUBEOP_DB_URL')).toEqual({
      name: 'KUBEOP_DB_URL',
      valueFrom: { secretKeyRef: { name: 'kubeop-database', key: 'url' } },
    });
  });

  it('admits only Prometheus to the operator metrics and only the webhook port to everyone else', () => {
    const np = find(objs, 'NetworkPolicy', 'kubeop-operator') as unknown as { spec: { ingress: unknown[] } };
    expect(np.spec.ingress).toEqual([
      {
        from: [
          {
            namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } },
            podSelector: { matchLabels: { 'app.kubernetes.io/name': 'prometheus' } },
          },
        ],
        ports: [{ port: 8080, protocol: 'TCP' }],
      },
    ]);
    const admission = find(objs, 'NetworkPolicy', 'kubeop-admission') as unknown as {
      spec: { ingress: Array<{ ports: Array<{ port: number }>; from?: unknown }> };
    };
    expect(admission.spec.ingress.map((i) => [i.ports[0]!.port, i.from === undefined])).toEqual([
      [9443, true],
      [8080, false],
    ]);
  });

  it('gives every multi-replica component a disruption budget', () => {
    expect(
      objs
        .filter((o) => o.kind === 'PodDisruptionBudget')
        .map((o) => o.metadata.name)
        .sort(),
    ).toEqual(['kubeop-admission', 'kubeop-manager', 'kubeop-operator']);
  });

  it('leaves the Prometheus Operator objects out unless asked for', () => {
    expect(objs.filter((o) => o.apiVersion.startsWith('monitoring.coreos.com'))).toEqual([]);
  });
});

describe('values choices', () => {
  it('embedded database: one replica, Recreate, a kept volume, no PostgreSQL URL, no budget', async () => {
    const objs = await render('manager.database.type=embedded', 'manager.replicas=3');
    const manager = find(objs, 'Deployment', 'kubeop-manager')!;
    expect(manager.spec).toMatchObject({ replicas: 1, strategy: { type: 'Recreate' } });
    expect(env(podSpec(manager).containers[0]!, 'KUBEOP_DB_URL')).toBeUndefined();
    const pvc = find(objs, 'PersistentVolumeClaim', 'kubeop-manager-data')!;
    expect(pvc.metadata).toMatchObject({ annotations: { 'helm.sh/resource-policy': 'keep' } });
    expect(find(objs, 'PodDisruptionBudget', 'kubeop-manager')).toBeUndefined();
  });

  it('one operator replica gets no budget that would block node drains', async () => {
    const objs = await render('operator.replicas=1');
    expect(find(objs, 'PodDisruptionBudget', 'kubeop-operator')).toBeUndefined();
  });

  it('cert-manager certificates: the issuer reaches admission and its Role may apply the Certificate', async () => {
    const objs = await render(
      'admission.certificates.source=cert-manager',
      'admission.certificates.issuer=ClusterIssuer/ca',
    );
    const [c] = podSpec(find(objs, 'Deployment', 'kubeop-admission')!).containers;
    expect(env(c!, 'KUBEOP_WEBHOOK_CERT_ISSUER')?.value).toBe('ClusterIssuer/ca');
    const role = find(objs, 'Role', 'kubeop-admission') as unknown as { rules: Rule[] };
    expect(
      role.rules.some((r) => r.apiGroups?.includes('cert-manager.io') && r.verbs.includes('patch')),
    ).toBe(true);
  });

  it('the API server CIDRs close the webhook port to everyone else', async () => {
    const objs = await render('networkPolicy.apiServerCIDRs={10.0.0.0/24}');
    const np = find(objs, 'NetworkPolicy', 'kubeop-admission') as unknown as {
      spec: { ingress: Array<{ from?: unknown }> };
    };
    expect(np.spec.ingress[0]!.from).toEqual([{ ipBlock: { cidr: '10.0.0.0/24' } }]);
  });

  it("metering: the operator sends usage to the chart's manager with a token from a Secret", async () => {
    expect(
      env(
        podSpec(find(await render(), 'Deployment', 'kubeop-operator')!).containers[0]!,
        'KUBEOP_MANAGER_URL',
      ),
    ).toBeUndefined();
    const objs = await render(
      'operator.metering.tokenSecret=metering',
      'networkPolicy.managerClients[0].podSelector.matchLabels.role=client',
    );
    const [c] = podSpec(find(objs, 'Deployment', 'kubeop-operator')!).containers;
    expect(env(c!, 'KUBEOP_MANAGER_URL')?.value).toBe('http://kubeop-manager.kubeop-system.svc:8080');
    expect(env(c!, 'KUBEOP_METERING_TOKEN')?.valueFrom).toEqual({
      secretKeyRef: { name: 'metering', key: 'token' },
    });
    const np = find(objs, 'NetworkPolicy', 'kubeop-manager') as unknown as {
      spec: { ingress: Array<{ from: unknown[] }> };
    };
    expect(np.spec.ingress[0]!.from).toContainEqual({
      podSelector: {
        matchLabels: { 'app.kubernetes.io/name': 'kubeop', 'app.kubernetes.io/component': 'operator' },
      },
    });
  });

  it('the Git webhook opens the operator port to Git hosts only when it is configured', async () => {
    const objs = await render('operator.gitWebhook.existingSecret=git-hook');
    const [c] = podSpec(find(objs, 'Deployment', 'kubeop-operator')!).containers;
    expect(env(c!, 'KUBEOP_GIT_WEBHOOK_SECRET')?.valueFrom).toEqual({
      secretKeyRef: { name: 'git-hook', key: 'secret' },
    });
    const np = find(objs, 'NetworkPolicy', 'kubeop-operator') as unknown as { spec: { ingress: unknown[] } };
    expect(np.spec.ingress).toHaveLength(2);
    expect(np.spec.ingress[1]).toEqual({ ports: [{ port: 8080, protocol: 'TCP' }] });
  });

  it('monitoring: ServiceMonitor, PrometheusRule and the dashboard ConfigMap', async () => {
    const objs = await render(
      'metrics.serviceMonitor.enabled=true',
      'metrics.prometheusRule.enabled=true',
      'metrics.dashboard.enabled=true',
    );
    expect(find(objs, 'ServiceMonitor', 'kubeop')).toBeDefined();
    expect(find(objs, 'PrometheusRule', 'kubeop')).toBeDefined();
    const dashboard = find(objs, 'ConfigMap', 'kubeop-dashboard') as unknown as {
      data: Record<string, string>;
    };
    expect(JSON.parse(dashboard.data['kubeop.json']!).uid).toBe('kubeop-platform');
  });

  it.each([
    [['operator.replicas=0'], '/operator/replicas'],
    [['operator.replica=2'], "'replica' not allowed"],
    [['manager.database.type=sqlite'], '/manager/database/type'],
    [['manager.database.existingSecret='], 'existingSecret'],
    [['admission.certificates.source=cert-manager'], 'issuer'],
    [['image.digest=latest'], 'digest'],
    [['logLevel=verbose'], 'logLevel'],
    [['networkPolicy.apiServerCIDRs={10.0.0.1}'], 'apiServerCIDRs'],
  ])('bad values %j fail at install, naming %s', async (set, named) => {
    const stderr = await renderError(...set);
    expect(stderr).toMatch(/values don't meet the specifications of the schema/);
    expect(stderr).toContain(named);
  });
});
