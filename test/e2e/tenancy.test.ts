import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { projectNamespace } from '../../src/domain/naming.ts';
import { KubeClient, type KubeApiError } from '../../src/kube/client.ts';
import type { Project, Tenant } from '../../src/schemas/crds/types.ts';
import type { KubeObject } from '../../src/schemas/kube-object.ts';
import { errorOf, eventually, kubeconfigPath } from '../support/e2e.ts';
import { installKubeop, kubectl, startOperatorInProcess } from '../support/operator.ts';

const API = 'paas.kubeop.io/v1alpha1';
const suffix = () => randomBytes(3).toString('hex');

function tenantObj(name: string, spec: Partial<Tenant['spec']> = {}): Tenant {
  return {
    apiVersion: API,
    kind: 'Tenant',
    metadata: { name },
    spec: { owners: [{ kind: 'User', name: `${name}-owner` }], ...spec },
  };
}
function projectObj(name: string, tenant: string, spec: Partial<Project['spec']> = {}): Project {
  return {
    apiVersion: API,
    kind: 'Project',
    metadata: { name },
    spec: { tenantRef: { name: tenant }, ...spec },
  };
}
/** A pod that Pod Security `restricted` admits. */
function pod(name: string, cpu = '100m'): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name },
    spec: {
      securityContext: { runAsNonRoot: true, runAsUser: 1000, seccompProfile: { type: 'RuntimeDefault' } },
      containers: [
        {
          name: 'app',
          image: 'registry.example/app:1',
          resources: { requests: { cpu, memory: '64Mi' }, limits: { cpu, memory: '64Mi' } },
          securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
        },
      ],
    },
  };
}

describe.skipIf(!kubeconfigPath)('tenancy on the real API server', () => {
  let admin: KubeClient;
  let operator: Awaited<ReturnType<typeof startOperatorInProcess>>;
  const asUser = (user: string, groups?: string[]) => ({
    impersonate: { user, ...(groups ? { groups } : {}) },
  });

  beforeAll(async () => {
    await installKubeop(kubeconfigPath!);
    const kc = new KubeConfig();
    kc.loadFromFile(kubeconfigPath!);
    admin = new KubeClient(kc, { fieldManager: 'e2e-test' });
    operator = await startOperatorInProcess(kubeconfigPath!, { resyncMs: 10_000 });
  });
  afterAll(async () => {
    await operator?.operator.stop();
  });

  async function readyProject(name: string): Promise<Project> {
    return eventually(`project ${name} Ready`, async () => {
      const p = await admin.get<Project>({ apiVersion: API, kind: 'Project', name });
      return p.status?.conditions?.find((c) => c.type === 'Ready' && c.status === 'True') ? p : undefined;
    });
  }

  describe('CRDs', () => {
    it('the API server rejects bad Tenants, Projects and Apps with messages that say what to fix', async () => {
      const t = `bad-${suffix()}`;
      const tenantErr = await errorOf(
        admin.apply(tenantObj(t, { owners: [], policy: { egressCIDRs: ['10.0.0.0/33'] } })),
      );
      expect(tenantErr.code).toBe(422);
      expect(tenantErr.message).toContain('every egressCIDRs entry must be a CIDR such as 10.0.0.0/8');
      expect(tenantErr.message).toMatch(
        /spec.owners: Invalid value: \d+: spec.owners in body should have at least 1 items/,
      );

      const projectErr = await errorOf(
        admin.apply(
          projectObj(`p-${suffix()}`, t, {
            quota: { memory: 'lots' },
            limits: { default: { cpu: '2' }, max: { cpu: '1' } },
          }),
        ),
      );
      expect(projectErr.message).toContain(
        'spec.quota.memory: Invalid value: "lots": must be a Kubernetes quantity such as 500m, 2 or 4Gi',
      );
      expect(projectErr.message).toContain('limits.default must not exceed limits.max');

      const appErr = await errorOf(
        admin.apply({
          apiVersion: API,
          kind: 'App',
          metadata: { name: 'x', namespace: 'default' },
          spec: {
            source: {
              image: { ref: 'nginx' },
              raw: { manifests: [{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' } }] },
            },
          },
        }),
      );
      expect(appErr.message).toContain(
        'set exactly one of source.image, source.git, source.helm and source.raw',
      );
    });

    it('tenantRef cannot be changed once set', async () => {
      const t = `imm-${suffix()}`;
      const p = `p-${suffix()}`;
      await admin.apply(projectObj(p, t));
      const err = await errorOf(admin.apply(projectObj(p, `${t}-other`)));
      expect(err.message).toContain(
        'tenantRef is immutable; create a new Project in the other tenant instead',
      );
      await admin.delete({ apiVersion: API, kind: 'Project', name: p });
    });
  });

  describe('a project', () => {
    const tenant = `acme-${suffix()}`;
    const project = `web-${suffix()}`;
    const ns = projectNamespace(tenant, project);

    beforeAll(async () => {
      await admin.apply(
        tenantObj(tenant, {
          quota: { cpu: '4', memory: '8Gi', pods: 10 },
          policy: { egressCIDRs: ['10.1.0.0/16'] },
        }),
      );
      await admin.apply(
        projectObj(project, tenant, {
          quota: { cpu: '2', memory: '4Gi', pods: 5 },
          members: [
            { kind: 'User', name: 'dev', role: 'edit' },
            { kind: 'User', name: 'auditor', role: 'view' },
          ],
        }),
      );
    });

    it('gets a labelled namespace with Pod Security restricted, and reports it in status', async () => {
      const p = await readyProject(project);
      expect(p.status?.namespace).toBe(ns);
      const namespace = await admin.get({ apiVersion: 'v1', kind: 'Namespace', name: ns });
      expect(namespace.metadata.labels).toMatchObject({
        'paas.kubeop.io/tenant': tenant,
        'paas.kubeop.io/project': project,
        'pod-security.kubernetes.io/enforce': 'restricted',
      });
    });

    it('gets a ResourceQuota, a LimitRange, network policies, roles, bindings and a deployer account', async () => {
      await readyProject(project);
      const names = async (apiVersion: string, kind: string) =>
        (await admin.list(apiVersion, kind, { namespace: ns })).map((o) => o.metadata.name).sort();
      expect(await names('v1', 'ResourceQuota')).toEqual(['kubeop-quota']);
      expect(await names('v1', 'LimitRange')).toEqual(['kubeop-limits']);
      expect(await names('networking.k8s.io/v1', 'NetworkPolicy')).toEqual([
        'kubeop-allow-dns',
        'kubeop-allow-egress-cidrs',
        'kubeop-allow-ingress-controller',
        'kubeop-allow-same-project',
        'kubeop-default-deny',
      ]);
      expect(await names('rbac.authorization.k8s.io/v1', 'Role')).toEqual([
        'kubeop-admin',
        'kubeop-deployer',
        'kubeop-edit',
        'kubeop-view',
      ]);
      expect(await names('rbac.authorization.k8s.io/v1', 'RoleBinding')).toEqual([
        'kubeop-admin-members',
        'kubeop-deployer',
        'kubeop-edit-members',
        'kubeop-view-members',
      ]);
      expect(await names('v1', 'ServiceAccount')).toContain('kubeop-deployer');
    });

    it('fills LimitRange defaults into pods that set no resources', async () => {
      await readyProject(project);
      const created = await admin.request<KubeObject>('POST', `/api/v1/namespaces/${ns}/pods`, {
        body: {
          ...pod('defaults'),
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
                securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
              },
            ],
          },
        },
      });
      const resources = (created.spec as { containers: Array<{ resources: unknown }> }).containers[0]
        ?.resources;
      expect(resources).toEqual({
        requests: { cpu: '100m', memory: '128Mi' },
        limits: { cpu: '500m', memory: '512Mi' },
      });
      await admin.delete({ apiVersion: 'v1', kind: 'Pod', name: 'defaults', namespace: ns });
    });

    it('follows spec changes: new quota, changed members, and removes bindings no longer wanted', async () => {
      await readyProject(project);
      const driftBefore = await operator.metric('kubeop_drift_corrected_total');
      await admin.apply(
        projectObj(project, tenant, {
          quota: { cpu: '3', memory: '4Gi', pods: 6 },
          members: [{ kind: 'User', name: 'dev', role: 'admin' }],
        }),
      );
      await eventually('quota and bindings updated', async () => {
        const rq = await admin.get({
          apiVersion: 'v1',
          kind: 'ResourceQuota',
          name: 'kubeop-quota',
          namespace: ns,
        });
        const hard = (rq.spec as { hard: Record<string, string> }).hard;
        const bindings = (
          await admin.list('rbac.authorization.k8s.io/v1', 'RoleBinding', { namespace: ns })
        ).map((b) => b.metadata.name);
        return hard['requests.cpu'] === '3' &&
          hard.pods === '6' &&
          !bindings.includes('kubeop-view-members') &&
          !bindings.includes('kubeop-edit-members')
          ? true
          : undefined;
      });
      const admins = await admin.get({
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'RoleBinding',
        name: 'kubeop-admin-members',
        namespace: ns,
      });
      expect((admins.subjects as Array<{ name: string }>).map((s) => s.name).sort()).toEqual([
        `${tenant}-owner`,
        'dev',
      ]);
      // A spec change is not drift.
      expect(await operator.metric('kubeop_drift_corrected_total')).toBe(driftBefore);
    });

    it('corrects a hand edit of a managed object and counts it as drift', async () => {
      await readyProject(project);
      const before = await operator.metric('kubeop_drift_corrected_total', {
        kind: 'NetworkPolicy',
      });
      await admin.mergePatch(
        {
          apiVersion: 'networking.k8s.io/v1',
          kind: 'NetworkPolicy',
          name: 'kubeop-default-deny',
          namespace: ns,
        },
        { spec: { policyTypes: ['Ingress'] } },
      );
      await eventually('default deny restored', async () => {
        const np = await admin.get({
          apiVersion: 'networking.k8s.io/v1',
          kind: 'NetworkPolicy',
          name: 'kubeop-default-deny',
          namespace: ns,
        });
        return JSON.stringify((np.spec as { policyTypes: string[] }).policyTypes) === '["Ingress","Egress"]'
          ? true
          : undefined;
      });
      // The counter moves once the operator's apply has returned, which can be after the restored
      // object is already visible to this test.
      await eventually('drift counted', async () =>
        (await operator.metric('kubeop_drift_corrected_total', { kind: 'NetworkPolicy' })) >= before + 1
          ? true
          : undefined,
      );
      await new Promise((r) => setTimeout(r, 1000));
      expect(await operator.metric('kubeop_drift_corrected_total', { kind: 'NetworkPolicy' })).toBe(
        before + 1,
      );
    });

    it('records Events for the project, such as a drift correction', async () => {
      const events = await eventually('DriftCorrected event', async () => {
        const list = await admin.list('events.k8s.io/v1', 'Event', { namespace: 'default' });
        const mine = list.filter((e) => (e.regarding as { name?: string } | undefined)?.name === project);
        return mine.some((e) => e.reason === 'DriftCorrected') ? mine : undefined;
      });
      expect(events.map((e) => e.reason)).toEqual(
        expect.arrayContaining(['NamespaceCreated', 'DriftCorrected']),
      );
      expect(events.find((e) => e.reason === 'DriftCorrected')).toMatchObject({
        type: 'Warning',
        note: 'NetworkPolicy kubeop-default-deny was changed outside kubeOP and has been restored',
        reportingController: 'paas.kubeop.io/operator',
      });
    });

    it('recreates a managed object that was deleted', async () => {
      await readyProject(project);
      await admin.delete({
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'Role',
        name: 'kubeop-view',
        namespace: ns,
      });
      await eventually('role recreated', () =>
        admin.find({
          apiVersion: 'rbac.authorization.k8s.io/v1',
          kind: 'Role',
          name: 'kubeop-view',
          namespace: ns,
        }),
      );
    });

    it('shows the tenant its namespaces and quota used against allowed', async () => {
      await readyProject(project);
      await admin.request('POST', `/api/v1/namespaces/${ns}/pods`, { body: pod('usage', '250m') });
      const status = await eventually('tenant usage', async () => {
        const t = await admin.get<Tenant>({ apiVersion: API, kind: 'Tenant', name: tenant });
        return t.status?.quota?.used?.['requests.cpu'] === '250m' ? t.status : undefined;
      });
      expect(status.namespaces).toEqual([ns]);
      expect(status.projects).toBe(1);
      expect(status.quota?.allowed).toEqual({ 'requests.cpu': '4', 'requests.memory': '8Gi', pods: '10' });
      expect(status.quota?.allocated).toEqual({ 'requests.cpu': '3', 'requests.memory': '4Gi', pods: '6' });
      expect(status.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
    });

    it('after converging, a full resync writes nothing', async () => {
      await readyProject(project);
      // Let in-flight status updates settle, then watch the write counter across two resync periods.
      await eventually('writes settle', async () => {
        const a = await operator.metric('kubeop_kube_writes_total');
        await new Promise((r) => setTimeout(r, 3000));
        return (await operator.metric('kubeop_kube_writes_total')) === a ? true : undefined;
      });
      const writes = await operator.metric('kubeop_kube_writes_total');
      const reconciles = await operator.metric('kubeop_controller_reconcile_total', {
        controller: 'project',
      });
      await new Promise((r) => setTimeout(r, 21_000));
      expect(
        await operator.metric('kubeop_controller_reconcile_total', { controller: 'project' }),
      ).toBeGreaterThan(reconciles);
      expect(await operator.metric('kubeop_kube_writes_total')).toBe(writes);
    }, 60_000);

    it('deleting the project removes its namespace and everything in it', async () => {
      await readyProject(project);
      await admin.delete({ apiVersion: API, kind: 'Project', name: project });
      await eventually(
        'project and namespace gone',
        async () => {
          const [p, n] = await Promise.all([
            admin.find({ apiVersion: API, kind: 'Project', name: project }),
            admin.find({ apiVersion: 'v1', kind: 'Namespace', name: ns }),
          ]);
          return !p && !n ? true : undefined;
        },
        120_000,
      );
    }, 150_000);
  });

  describe('a tenant', () => {
    it('is deleted after its projects, leaving nothing behind', async () => {
      const tenant = `gone-${suffix()}`;
      const projects = [`a-${suffix()}`, `b-${suffix()}`];
      await admin.apply(tenantObj(tenant));
      for (const p of projects) await admin.apply(projectObj(p, tenant));
      for (const p of projects) await readyProject(p);
      await admin.delete({ apiVersion: API, kind: 'Tenant', name: tenant });
      await eventually(
        'tenant, projects and namespaces gone',
        async () => {
          const left = await Promise.all([
            admin.find({ apiVersion: API, kind: 'Tenant', name: tenant }),
            ...projects.map((p) => admin.find({ apiVersion: API, kind: 'Project', name: p })),
            ...projects.map((p) =>
              admin.find({ apiVersion: 'v1', kind: 'Namespace', name: projectNamespace(tenant, p) }),
            ),
          ]);
          return left.every((o) => o === undefined) ? true : undefined;
        },
        150_000,
      );
    }, 180_000);

    it('a project of a tenant that does not exist says so and creates nothing', async () => {
      const p = `orphan-${suffix()}`;
      await admin.apply(projectObj(p, `missing-${suffix()}`));
      const status = await eventually('TenantNotFound', async () => {
        const obj = await admin.get<Project>({ apiVersion: API, kind: 'Project', name: p });
        return obj.status?.conditions?.find((c) => c.reason === 'TenantNotFound');
      });
      expect(status.message).toMatch(/does not exist; create it or fix spec.tenantRef/);
      await admin.delete({ apiVersion: API, kind: 'Project', name: p });
    });
  });

  describe('the examples in deploy/examples', () => {
    it('apply as documented and become Ready', async () => {
      const dir = fileURLToPath(new URL('../../deploy/examples/', import.meta.url));
      await kubectl(kubeconfigPath!, ['apply', '-f', dir]);
      const p = await readyProject('acme-web');
      expect(p.status?.namespace).toBe(projectNamespace('acme', 'acme-web'));
      await kubectl(kubeconfigPath!, ['delete', '-f', dir, '--wait=false']);
    });
  });

  describe('tenant-wide quota', () => {
    it('never lets concurrent pod creations in several projects exceed the tenant quota', async () => {
      const tenant = `quota-${suffix()}`;
      const names = ['p1', 'p2', 'p3'].map((n) => `${n}-${suffix()}`);
      await admin.apply(tenantObj(tenant, { quota: { pods: 4, cpu: '10' } }));
      // 2 + 2 fit in 4; the third project's 2 do not and get nothing.
      for (const n of names) await admin.apply(projectObj(n, tenant, { quota: { pods: 2, cpu: '1' } }));
      for (const n of names) await readyProject(n);
      const third = await eventually('third project denied', async () => {
        const p = await admin.get<Project>({ apiVersion: API, kind: 'Project', name: names[2]! });
        return p.status?.conditions?.find((c) => c.type === 'QuotaAllocated' && c.status === 'False');
      });
      expect(third.message).toContain('no room for the requested pods');

      // Four pods at once into every project: 12 attempts against a tenant limit of 4.
      const attempts = names.flatMap((n) =>
        [0, 1, 2, 3].map((i) =>
          admin
            .request('POST', `/api/v1/namespaces/${projectNamespace(tenant, n)}/pods`, {
              body: pod(`burst-${i}`),
            })
            .then(
              () => 'created',
              (e: KubeApiError) => e.message,
            ),
        ),
      );
      const results = await Promise.all(attempts);
      expect(results.filter((r) => r === 'created')).toHaveLength(4);
      expect(results.filter((r) => r !== 'created').every((m) => m.includes('exceeded quota'))).toBe(true);
      let total = 0;
      for (const n of names)
        total += (await admin.list('v1', 'Pod', { namespace: projectNamespace(tenant, n) })).length;
      expect(total).toBeLessThanOrEqual(4);

      const status = await eventually('tenant reports usage', async () => {
        const t = await admin.get<Tenant>({ apiVersion: API, kind: 'Tenant', name: tenant });
        return t.status?.quota?.used?.pods === '4' ? t.status : undefined;
      });
      expect(status.quota?.allocated?.pods).toBe('4');
      await admin.delete({ apiVersion: API, kind: 'Tenant', name: tenant });
    }, 120_000);
  });

  describe('multi-tenancy checks, acting as tenant users', () => {
    const a = `mta-${suffix()}`;
    const b = `mtb-${suffix()}`;
    const pa = `app-${suffix()}`;
    const pb = `app-${suffix()}`;
    const nsA = projectNamespace(a, pa);
    const nsB = projectNamespace(b, pb);
    const ownerA = `${a}-owner`;
    const devA = `dev-${a}`;

    beforeAll(async () => {
      await admin.apply(tenantObj(a));
      await admin.apply(tenantObj(b));
      await admin.apply(projectObj(pa, a, { members: [{ kind: 'User', name: devA, role: 'edit' }] }));
      await admin.apply(projectObj(pb, b));
      await readyProject(pa);
      await readyProject(pb);
    });

    it('PL1-CC-FNS-1: every tenant namespace has a ResourceQuota', async () => {
      for (const ns of [nsA, nsB]) {
        expect(await admin.list('v1', 'ResourceQuota', { namespace: ns })).toHaveLength(1);
      }
    });

    it('PL1-CC-FNS-1: a project with no quota gets a compute quota (cpu and memory, requests and limits)', async () => {
      const rq = await admin.get({
        apiVersion: 'v1',
        kind: 'ResourceQuota',
        name: 'kubeop-quota',
        namespace: nsA,
      });
      expect((rq.spec as { hard: Record<string, string> }).hard).toMatchObject({
        'requests.cpu': '8',
        'requests.memory': '16Gi',
        'limits.cpu': '16',
        'limits.memory': '32Gi',
      });
      // The explicit opt-out: object counts only.
      const free = `free-${suffix()}`;
      await admin.apply(projectObj(free, a, { quota: { unlimitedCompute: true } }));
      await readyProject(free);
      const hard = (
        await admin.get({
          apiVersion: 'v1',
          kind: 'ResourceQuota',
          name: 'kubeop-quota',
          namespace: projectNamespace(a, free),
        })
      ).spec as { hard: Record<string, string> };
      expect(Object.keys(hard.hard).filter((k) => k.includes('cpu') || k.includes('memory'))).toEqual([]);
      expect(hard.hard.pods).toBe('50');
      await admin.delete({ apiVersion: API, kind: 'Project', name: free });
    });

    it('PL1-CC-FNS-2: pods, services, secrets, configmaps and PVCs have object-count quotas', async () => {
      const rq = await admin.get({
        apiVersion: 'v1',
        kind: 'ResourceQuota',
        name: 'kubeop-quota',
        namespace: nsA,
      });
      expect(Object.keys((rq.spec as { hard: Record<string, string> }).hard)).toEqual(
        expect.arrayContaining(['pods', 'services', 'secrets', 'configmaps', 'persistentvolumeclaims']),
      );
    });

    it('PL1-CC-TI-1: a tenant admin cannot modify its ResourceQuota or LimitRange', async () => {
      const rq = await errorOf(
        admin.request('PATCH', `/api/v1/namespaces/${nsA}/resourcequotas/kubeop-quota`, {
          body: { spec: { hard: { pods: '1000' } } },
          contentType: 'application/merge-patch+json',
          ...asUser(ownerA),
        }),
      );
      expect(rq.code).toBe(403);
      const lr = await errorOf(
        admin.request('DELETE', `/api/v1/namespaces/${nsA}/limitranges/kubeop-limits`, asUser(ownerA)),
      );
      expect(lr.code).toBe(403);
    });

    it("PL1-CC-TI-2: a tenant cannot access another tenant's resources", async () => {
      for (const user of [ownerA, devA]) {
        const err = await errorOf(admin.request('GET', `/api/v1/namespaces/${nsB}/configmaps`, asUser(user)));
        expect(err.code).toBe(403);
      }
      expect(await admin.request('GET', `/api/v1/namespaces/${nsA}/configmaps`, asUser(devA))).toBeTruthy();
    });

    it('PL1-CC-CPI-1: a tenant cannot access cluster-scoped resources', async () => {
      for (const path of [
        '/api/v1/nodes',
        '/api/v1/namespaces',
        '/apis/apiextensions.k8s.io/v1/customresourcedefinitions',
        '/apis/rbac.authorization.k8s.io/v1/clusterroles',
      ]) {
        expect((await errorOf(admin.request('GET', path, asUser(ownerA)))).code, path).toBe(403);
      }
    });

    it('PL1-BC-CPI-2: a tenant cannot read or change Tenants, Projects or webhook configurations', async () => {
      for (const path of [
        `/apis/${API}/tenants`,
        `/apis/${API}/projects/${pa}`,
        '/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations',
      ]) {
        expect((await errorOf(admin.request('GET', path, asUser(ownerA)))).code, path).toBe(403);
      }
      const patch = await errorOf(
        admin.request('PATCH', `/apis/${API}/tenants/${a}`, {
          body: { spec: { quota: { pods: 1000 } } },
          contentType: 'application/merge-patch+json',
          ...asUser(ownerA),
        }),
      );
      expect(patch.code).toBe(403);
    });

    it('PL1-BC-NI-1: every tenant namespace denies all traffic by default', async () => {
      // kwok nodes have no data plane, so the policy itself is checked: it selects every pod and
      // allows nothing in either direction.
      const np = await admin.get({
        apiVersion: 'networking.k8s.io/v1',
        kind: 'NetworkPolicy',
        name: 'kubeop-default-deny',
        namespace: nsA,
      });
      expect(np.spec).toEqual({ podSelector: {}, policyTypes: ['Ingress', 'Egress'] });
      const same = await admin.get({
        apiVersion: 'networking.k8s.io/v1',
        kind: 'NetworkPolicy',
        name: 'kubeop-allow-same-project',
        namespace: nsA,
      });
      expect(JSON.stringify(same.spec)).not.toContain(nsB);
      expect((same.spec as { ingress: Array<{ from: unknown[] }> }).ingress[0]?.from).toEqual([
        { podSelector: {} },
      ]);
    });

    it('PL1-BC-CPI-5 / HI-1 / HI-3: Pod Security restricted refuses privileged, hostPath and host-network pods', async () => {
      const base = pod('bad') as { spec: { containers: Array<Record<string, unknown>> } } & KubeObject;
      const variants: Array<[string, Record<string, unknown>]> = [
        [
          'privileged',
          { containers: [{ ...base.spec.containers[0], securityContext: { privileged: true } }] },
        ],
        ['hostPath', { volumes: [{ name: 'h', hostPath: { path: '/' } }] }],
        ['hostNetwork', { hostNetwork: true }],
        ['hostPID', { hostPID: true }],
      ];
      for (const [what, spec] of variants) {
        const err = await errorOf(
          admin.request('POST', `/api/v1/namespaces/${nsA}/pods`, {
            body: {
              ...base,
              metadata: { name: `bad-${what.toLowerCase()}` },
              spec: { ...base.spec, ...spec },
            },
            ...asUser(devA),
          }),
        );
        expect(err.code, what).toBe(403);
        expect(err.message, what).toContain('violates PodSecurity "restricted:latest"');
      }
    });

    it('PL2-BC-OPS-3: a tenant admin binds roles in its namespace, but cannot escalate to cluster-admin', async () => {
      const ok = await admin.request(
        'POST',
        `/apis/rbac.authorization.k8s.io/v1/namespaces/${nsA}/rolebindings`,
        {
          body: {
            apiVersion: 'rbac.authorization.k8s.io/v1',
            kind: 'RoleBinding',
            metadata: { name: 'newcomer' },
            roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'kubeop-edit' },
            subjects: [{ kind: 'User', name: 'newcomer', apiGroup: 'rbac.authorization.k8s.io' }],
          },
          ...asUser(ownerA),
        },
      );
      expect(ok).toBeTruthy();
      const escalate = await errorOf(
        admin.request('POST', `/apis/rbac.authorization.k8s.io/v1/namespaces/${nsA}/rolebindings`, {
          body: {
            apiVersion: 'rbac.authorization.k8s.io/v1',
            kind: 'RoleBinding',
            metadata: { name: 'escalate' },
            roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' },
            subjects: [{ kind: 'User', name: ownerA, apiGroup: 'rbac.authorization.k8s.io' }],
          },
          ...asUser(ownerA),
        }),
      );
      expect(escalate.code).toBe(403);
      expect(escalate.message).toMatch(/attempting to grant RBAC permissions not currently held|escalat/);
    });

    it('PL2-BC-OPS-4: a tenant admin creates network policies in its namespace', async () => {
      const np = await admin.request<KubeObject>(
        'POST',
        `/apis/networking.k8s.io/v1/namespaces/${nsA}/networkpolicies`,
        {
          body: {
            apiVersion: 'networking.k8s.io/v1',
            kind: 'NetworkPolicy',
            metadata: { name: 'allow-web' },
            spec: {
              podSelector: { matchLabels: { app: 'web' } },
              ingress: [{ ports: [{ port: 8080, protocol: 'TCP' }] }],
            },
          },
          ...asUser(ownerA),
        },
      );
      expect(np.metadata.name).toBe('allow-web');
      const asEditor = await errorOf(
        admin.request(
          'DELETE',
          `/apis/networking.k8s.io/v1/namespaces/${nsA}/networkpolicies/allow-web`,
          asUser(devA),
        ),
      );
      expect(asEditor.code).toBe(403);
    });

    it('PL2-CC-TI-1: a tenant admin cannot create a role with more than it holds', async () => {
      const err = await errorOf(
        admin.request('POST', `/apis/rbac.authorization.k8s.io/v1/namespaces/${nsA}/roles`, {
          body: {
            apiVersion: 'rbac.authorization.k8s.io/v1',
            kind: 'Role',
            metadata: { name: 'quota-editor' },
            rules: [{ apiGroups: [''], resources: ['resourcequotas'], verbs: ['update', 'patch'] }],
          },
          ...asUser(ownerA),
        }),
      );
      expect(err.code).toBe(403);
      expect(err.message).toMatch(/attempting to grant RBAC permissions not currently held|escalat/);
    });

    afterAll(async () => {
      await admin.delete({ apiVersion: API, kind: 'Tenant', name: a });
      await admin.delete({ apiVersion: API, kind: 'Tenant', name: b });
    });
  });
});
