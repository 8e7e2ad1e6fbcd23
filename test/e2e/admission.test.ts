// The multi-tenancy checks that admission and Pod Security Admission own, acting as impersonated
// tenant users against the real API server, with kubeOP's webhooks registered and called by it.
// Test names start with the check id (docs/multi-tenancy-checks.md is generated from them).
import { randomBytes } from 'node:crypto';
import { KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { projectNamespace } from '../../src/domain/naming.ts';
import { KubeClient, type Impersonation } from '../../src/kube/client.ts';
import type { Project, Tenant } from '../../src/schemas/crds/types.ts';
import type { KubeObject } from '../../src/schemas/kube-object.ts';
import {
  deleteTenantsAndWait,
  startAdmissionInProcess,
  type InProcessAdmission,
} from '../support/admission.ts';
import { errorOf, eventually, kubeconfigPath } from '../support/e2e.ts';
import { installKubeop, startOperatorInProcess } from '../support/operator.ts';

const API = 'paas.kubeop.io/v1alpha1';
const sfx = randomBytes(3).toString('hex');
const RBAC = 'rbac.authorization.k8s.io/v1';

type Pod = KubeObject & {
  spec: {
    securityContext?: Record<string, unknown>;
    containers: Array<Record<string, unknown> & { securityContext?: Record<string, unknown> }>;
  };
};

describe.skipIf(!kubeconfigPath)('admission on the real API server', () => {
  let admin: KubeClient;
  let operator: Awaited<ReturnType<typeof startOperatorInProcess>>;
  let webhooks: InProcessAdmission;
  let gatewayApi = false;

  const a = `adm-a-${sfx}`;
  const b = `adm-b-${sfx}`;
  const pa = `web-${sfx}`;
  const pb = `shop-${sfx}`;
  const nsA = projectNamespace(a, pa);
  const nsB = projectNamespace(b, pb);
  const ownerA = `${a}-owner`;
  const ownerB = `${b}-owner`;
  const devA = `dev-${a}`;
  const domainA = `${a}.example`;
  const domainB = `${b}.example`;
  const as = (user: string, groups?: string[]): { impersonate: Impersonation } => ({
    impersonate: { user, ...(groups ? { groups } : {}) },
  });

  const post = <T = KubeObject>(
    path: string,
    body: unknown,
    who: { impersonate: Impersonation },
    dryRun = false,
  ) => admin.request<T>('POST', `${path}${dryRun ? '?dryRun=All' : ''}`, { body, ...who });
  const podsOf = (ns: string) => `/api/v1/namespaces/${ns}/pods`;
  /** ClusterRoles and ClusterRoleBindings, which kubeOP's resource table does not know. */
  const clusterRbac = (kind: 'clusterroles' | 'clusterrolebindings', obj: Record<string, unknown>) => {
    const name = (obj.metadata as { name: string }).name;
    return admin.request('PATCH', `/apis/${RBAC}/${kind}/${name}?fieldManager=e2e-test&force=true`, {
      body: {
        apiVersion: RBAC,
        kind: kind === 'clusterroles' ? 'ClusterRole' : 'ClusterRoleBinding',
        ...obj,
      },
      contentType: 'application/apply-patch+yaml',
    });
  };
  const removeClusterRbac = async (name: string) => {
    for (const kind of ['clusterrolebindings', 'clusterroles']) {
      await admin.request('DELETE', `/apis/${RBAC}/${kind}/${name}`).catch(() => {});
    }
  };
  const pod = (
    name: string,
    spec: Record<string, unknown> = {},
    container: Record<string, unknown> = {},
  ) => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name },
    spec: { containers: [{ name: 'app', image: 'ghcr.io/acme/app:1', ...container }], ...spec },
  });
  /** A pod Pod Security would admit but for `what`; the webhook fills in everything else. */
  const refusedByPodSecurity = async (what: string, body: unknown) => {
    const err = await errorOf(post(podsOf(nsA), body, as(devA), true));
    expect(err.code, what).toBe(403);
    expect(err.message, what).toContain('violates PodSecurity "restricted:latest"');
    return err;
  };

  beforeAll(async () => {
    await installKubeop(kubeconfigPath!);
    const kc = new KubeConfig();
    kc.loadFromFile(kubeconfigPath!);
    admin = new KubeClient(kc, { fieldManager: 'e2e-test' });
    gatewayApi = await admin.request('GET', '/apis/gateway.networking.k8s.io/v1').then(
      () => true,
      () => false,
    );
    operator = await startOperatorInProcess(kubeconfigPath!);
    const tenant = (name: string, owner: string, policy: NonNullable<Tenant['spec']['policy']>): Tenant => ({
      apiVersion: API,
      kind: 'Tenant',
      metadata: { name },
      spec: { owners: [{ kind: 'User', name: owner }], policy },
    });
    await admin.apply(
      tenant(a, ownerA, {
        allowedRegistries: ['ghcr.io/acme', 'docker.io'],
        allowedIngressDomains: [domainA],
        allowedServiceTypes: ['ClusterIP'],
      }),
    );
    await admin.apply(
      tenant(b, ownerB, {
        allowedRegistries: ['ghcr.io/acme'],
        allowedIngressDomains: [domainB],
        allowedServiceTypes: ['ClusterIP', 'NodePort'],
      }),
    );
    const project = (name: string, t: string, spec: Partial<Project['spec']> = {}): Project => ({
      apiVersion: API,
      kind: 'Project',
      metadata: { name },
      spec: { tenantRef: { name: t }, ...spec },
    });
    await admin.apply(project(pa, a, { members: [{ kind: 'User', name: devA, role: 'edit' }] }));
    await admin.apply(project(pb, b, { quota: { nodePorts: 2 } }));
    for (const p of [pa, pb]) {
      await eventually(`project ${p} Ready`, async () => {
        const obj = await admin.get<Project>({ apiVersion: API, kind: 'Project', name: p });
        return obj.status?.conditions?.find((c) => c.type === 'Ready' && c.status === 'True');
      });
    }
    webhooks = await startAdmissionInProcess(kubeconfigPath!, {
      secretName: `webhook-tls-${sfx}`,
      // Short, so the race test below can see an unused claim released within the test.
      claimGraceMs: 3_000,
    });
    // The API server reads webhook configurations through an informer: wait until it calls ours.
    await eventually('the API server calls the webhooks', async () => {
      const err = await errorOf(
        post(podsOf(nsA), pod('probe', {}, { image: 'quay.io/not/allowed:1' }), as(devA), true),
      ).catch(() => undefined);
      return err?.message.includes('kubeOP rule allowed-registries') ? true : undefined;
    });
  });

  afterAll(async () => {
    await webhooks?.stop();
    if (admin && operator) await deleteTenantsAndWait(admin, [a, b]);
    await operator?.operator.stop();
  }, 180_000);

  describe('multi-tenancy checks', () => {
    it('PL1-BC-CPI-2: a tenant cannot change or delete the quotas, policies and RBAC kubeOP manages, nor read webhook configurations', async () => {
      const denied = async (p: Promise<unknown>, what: string) => {
        const err = await errorOf(p);
        expect(err.code, what).toBe(403);
        expect(err.message, what).toContain('kubeOP rule managed-object');
        return err;
      };
      const np = `/apis/networking.k8s.io/v1/namespaces/${nsA}/networkpolicies`;
      const del = await denied(
        admin.request('DELETE', `${np}/kubeop-default-deny`, as(ownerA)),
        'delete default deny',
      );
      expect(del.message).toContain(
        'NetworkPolicy kubeop-default-deny is managed by kubeOP; tenants cannot delete it. Fix: create a NetworkPolicy of your own next to it',
      );
      await denied(
        admin.request('PATCH', `/apis/${RBAC}/namespaces/${nsA}/roles/kubeop-admin`, {
          body: { rules: [] },
          contentType: 'application/merge-patch+json',
          ...as(ownerA),
        }),
        'empty the admin role',
      );
      await denied(
        admin.request(
          'DELETE',
          `/apis/${RBAC}/namespaces/${nsA}/rolebindings/kubeop-admin-members`,
          as(ownerA),
        ),
        'delete the member binding',
      );
      await denied(
        admin.request('DELETE', `/api/v1/namespaces/${nsA}/serviceaccounts/kubeop-deployer`, as(devA)),
        'delete the deployer account',
      );
      await denied(
        post(
          np,
          { metadata: { name: 'kubeop-allow-all' }, spec: { podSelector: {}, ingress: [{}] } },
          as(ownerA),
        ),
        'create a look-alike',
      );
      // Quotas and limit ranges: RBAC refuses first.
      const rq = await errorOf(
        admin.request('DELETE', `/api/v1/namespaces/${nsA}/resourcequotas/kubeop-quota`, as(ownerA)),
      );
      expect(rq.code).toBe(403);
      // Webhook configurations are cluster-scoped: RBAC keeps tenants away from them.
      for (const kind of ['validatingwebhookconfigurations', 'mutatingwebhookconfigurations']) {
        const err = await errorOf(
          admin.request('GET', `/apis/admissionregistration.k8s.io/v1/${kind}`, as(ownerA)),
        );
        expect(err.code, kind).toBe(403);
      }
      // Their own policies stay theirs.
      await post(
        np,
        {
          metadata: { name: 'allow-web' },
          spec: { podSelector: {}, ingress: [{ ports: [{ port: 8080 }] }] },
        },
        as(ownerA),
      );
      await admin.request('DELETE', `${np}/allow-web`, as(ownerA));
      expect(
        await admin.get({
          apiVersion: 'networking.k8s.io/v1',
          kind: 'NetworkPolicy',
          name: 'kubeop-default-deny',
          namespace: nsA,
        }),
      ).toBeTruthy();
    });

    it('PL1-BC-CPI-3: added Linux capabilities are refused, and containers drop ALL by default', async () => {
      await refusedByPodSecurity(
        'add NET_ADMIN',
        pod('caps', {}, { securityContext: { capabilities: { add: ['NET_ADMIN'] } } }),
      );
      const created = await post<Pod>(podsOf(nsA), pod('bare-caps'), as(devA), true);
      expect(created.spec.containers[0]!.securityContext?.capabilities).toEqual({ drop: ['ALL'] });
    });

    it('PL1-BC-CPI-4: pods run as non-root: defaulted when unset, refused when root', async () => {
      const err = await refusedByPodSecurity(
        'runAsUser 0',
        pod('root', { securityContext: { runAsUser: 0 } }),
      );
      expect(err.message).toContain('runAsUser=0');
      await refusedByPodSecurity(
        'runAsNonRoot false',
        pod('root2', { securityContext: { runAsNonRoot: false } }),
      );
      const created = await post<Pod>(podsOf(nsA), pod('bare-user'), as(devA), true);
      expect(created.spec.securityContext).toMatchObject({
        runAsNonRoot: true,
        seccompProfile: { type: 'RuntimeDefault' },
      });
    });

    it('PL1-BC-CPI-5: privileged containers are refused', async () => {
      const err = await refusedByPodSecurity(
        'privileged',
        pod('priv', {}, { securityContext: { privileged: true } }),
      );
      expect(err.message).toContain('privileged');
    });

    it('PL1-BC-CPI-6: privilege escalation is refused, and disabled by default', async () => {
      const err = await refusedByPodSecurity(
        'allowPrivilegeEscalation',
        pod('escalate', {}, { securityContext: { allowPrivilegeEscalation: true } }),
      );
      expect(err.message).toContain('allowPrivilegeEscalation');
      const created = await post<Pod>(podsOf(nsA), pod('bare-esc'), as(devA), true);
      expect(created.spec.containers[0]!.securityContext?.allowPrivilegeEscalation).toBe(false);
    });

    it('PL1-BC-HI-1: hostPath volumes are refused', async () => {
      const err = await refusedByPodSecurity(
        'hostPath',
        pod('hostpath', { volumes: [{ name: 'h', hostPath: { path: '/etc' } }] }),
      );
      expect(err.message).toContain('hostPath');
    });

    it('PL1-BC-HI-2: NodePort services are refused unless the tenant policy allows them', async () => {
      const svc = (type: string) => ({
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: `np-${type.toLowerCase()}` },
        spec: { type, selector: { app: 'web' }, ports: [{ port: 80 }] },
      });
      const err = await errorOf(post(`/api/v1/namespaces/${nsA}/services`, svc('NodePort'), as(devA), true));
      expect(err.code).toBe(403);
      expect(err.message).toContain(
        `kubeOP rule service-type: a Service of type NodePort opens a port on every node of the cluster; tenant ${a} allows ClusterIP.`,
      );
      // Tenant b's policy allows NodePort.
      const ok = await post(`/api/v1/namespaces/${nsB}/services`, svc('NodePort'), as(ownerB), true);
      expect((ok.spec as { type: string }).type).toBe('NodePort');
    });

    it('PL1-BC-HI-3: host networking and host ports are refused', async () => {
      await refusedByPodSecurity('hostNetwork', pod('hostnet', { hostNetwork: true }));
      const err = await refusedByPodSecurity(
        'hostPort',
        pod('hostport', {}, { ports: [{ containerPort: 80, hostPort: 80 }] }),
      );
      expect(err.message).toContain('hostPort');
    });

    it('PL1-BC-HI-4: host PID is refused', async () => {
      const err = await refusedByPodSecurity('hostPID', pod('hostpid', { hostPID: true }));
      expect(err.message).toContain('hostPID');
    });

    it('PL1-BC-HI-5: host IPC is refused', async () => {
      const err = await refusedByPodSecurity('hostIPC', pod('hostipc', { hostIPC: true }));
      expect(err.message).toContain('hostIPC');
    });

    it('PL1-CC-DI-1: images are pulled with imagePullPolicy Always unless pinned by digest', async () => {
      const digest = `ghcr.io/acme/app@sha256:${'c'.repeat(64)}`;
      const created = await post<Pod>(
        podsOf(nsA),
        {
          ...pod('pull'),
          spec: {
            containers: [
              { name: 'tagged', image: 'ghcr.io/acme/app:1', imagePullPolicy: 'IfNotPresent' },
              { name: 'pinned', image: digest, imagePullPolicy: 'IfNotPresent' },
              { name: 'short', image: 'nginx:1.27' },
            ],
          },
        },
        as(devA),
      );
      expect(created.spec.containers.map((c) => c.imagePullPolicy)).toEqual([
        'Always',
        'IfNotPresent',
        'Always',
      ]);
      expect(created.metadata.labels).toMatchObject({
        'paas.kubeop.io/tenant': a,
        'paas.kubeop.io/project': pa,
      });
      await admin.delete({ apiVersion: 'v1', kind: 'Pod', name: 'pull', namespace: nsA });
    });

    it('draft: containers drop ALL capabilities and claims cannot bind an existing volume', async () => {
      const created = await post<Pod>(
        podsOf(nsA),
        pod('drop', {}, { securityContext: { readOnlyRootFilesystem: true } }),
        as(devA),
        true,
      );
      expect(created.spec.containers[0]!.securityContext).toEqual({
        readOnlyRootFilesystem: true,
        allowPrivilegeEscalation: false,
        capabilities: { drop: ['ALL'] },
      });
      const err = await errorOf(
        post(
          `/api/v1/namespaces/${nsA}/persistentvolumeclaims`,
          {
            metadata: { name: 'steal' },
            spec: {
              volumeName: 'someone-elses-pv',
              accessModes: ['ReadWriteOnce'],
              resources: { requests: { storage: '1Gi' } },
            },
          },
          as(devA),
          true,
        ),
      );
      expect(err.message).toContain('kubeOP rule pvc-volume-name');
    });
  });

  describe('platform guardrails', () => {
    it('GR-REGISTRY: images only from the tenant registries, parsed as the runtime parses them', async () => {
      const refused = await errorOf(
        post(podsOf(nsA), pod('miner', {}, { image: 'quay.io/evil/miner:1' }), as(devA), true),
      );
      expect(refused.message).toContain(
        `admission webhook "workloads.validate.paas.kubeop.io" denied the request: kubeOP rule allowed-registries: container "app" of this Pod uses image "quay.io/evil/miner:1", which is pulled from quay.io/evil/miner; tenant ${a} allows images only from ghcr.io/acme, docker.io.`,
      );
      const lookalike = await errorOf(
        post(podsOf(nsA), pod('lookalike', {}, { image: 'ghcr.io/acme-evil/app:1' }), as(devA), true),
      );
      expect(lookalike.message).toContain('kubeOP rule allowed-registries');
      // `nginx` is docker.io/library/nginx: allowed for a, not for b.
      await post(podsOf(nsA), pod('hub', {}, { image: 'nginx' }), as(devA), true);
      const hub = await errorOf(
        post(podsOf(nsB), pod('hub', {}, { image: 'library/nginx' }), as(ownerB), true),
      );
      expect(hub.message).toContain('pulled from docker.io/library/nginx');
      // A Deployment is refused up front rather than leaving a ReplicaSet that cannot create pods.
      const deploy = await errorOf(
        post(
          `/apis/apps/v1/namespaces/${nsA}/deployments`,
          {
            metadata: { name: 'd' },
            spec: {
              selector: { matchLabels: { app: 'd' } },
              template: {
                metadata: { labels: { app: 'd' } },
                spec: { containers: [{ name: 'c', image: 'evil.example/c' }] },
              },
            },
          },
          as(devA),
          true,
        ),
      );
      expect(deploy.message).toContain('container "c" of this Deployment');
    });

    it('GR-HOSTNAME: hostnames only under the tenant domains, and one tenant per hostname', async () => {
      const ingress = (name: string, host?: string) => ({
        apiVersion: 'networking.k8s.io/v1',
        kind: 'Ingress',
        metadata: { name },
        spec: {
          rules: [
            {
              ...(host ? { host } : {}),
              http: {
                paths: [
                  {
                    path: '/',
                    pathType: 'Prefix',
                    backend: { service: { name: 'web', port: { number: 80 } } },
                  },
                ],
              },
            },
          ],
        },
      });
      const host = `shop.${domainA}`;
      await post(`/apis/networking.k8s.io/v1/namespaces/${nsA}/ingresses`, ingress('shop', host), as(devA));
      // b's domains do not include a's, and b may not take a's hostname even with the domain allowed.
      const outside = await errorOf(
        post(
          `/apis/networking.k8s.io/v1/namespaces/${nsB}/ingresses`,
          ingress('shop', host),
          as(ownerB),
          true,
        ),
      );
      expect(outside.message).toContain(
        `kubeOP rule hostname-domain: hostname ${host} is not under the domains of tenant ${b}`,
      );
      await admin.apply({
        apiVersion: API,
        kind: 'Tenant',
        metadata: { name: b },
        spec: {
          owners: [{ kind: 'User', name: ownerB }],
          policy: {
            allowedRegistries: ['ghcr.io/acme'],
            allowedIngressDomains: [domainB, domainA],
            allowedServiceTypes: ['ClusterIP', 'NodePort'],
          },
        },
      });
      const taken = await eventually('policy change seen by admission', async () => {
        const err = await errorOf(
          post(
            `/apis/networking.k8s.io/v1/namespaces/${nsB}/ingresses`,
            ingress('shop', host),
            as(ownerB),
            true,
          ),
        );
        return err.message.includes('hostname-owner') ? err : undefined;
      });
      expect(taken.message).toContain(
        `kubeOP rule hostname-owner: hostname ${host} is already in use by another tenant.`,
      );
      const catchAll = await errorOf(
        post(`/apis/networking.k8s.io/v1/namespaces/${nsA}/ingresses`, ingress('all'), as(devA), true),
      );
      expect(catchAll.message).toContain('kubeOP rule hostname-required');
      if (gatewayApi) {
        const route = (hostnames?: string[]) => ({
          apiVersion: 'gateway.networking.k8s.io/v1',
          kind: 'HTTPRoute',
          metadata: { name: 'r' },
          spec: { parentRefs: [{ name: 'gw' }], ...(hostnames ? { hostnames } : {}) },
        });
        const path = `/apis/gateway.networking.k8s.io/v1/namespaces/${nsB}/httproutes`;
        expect((await errorOf(post(path, route([host]), as(ownerB), true))).message).toContain(
          'hostname-owner',
        );
        expect((await errorOf(post(path, route(), as(ownerB), true))).message).toContain('hostname-required');
        await post(path, route([`api.${domainB}`]), as(ownerB), true);
      }
    });

    it('GR-HOSTNAME: two tenants racing for one new hostname: exactly one wins, and it is free again once unused', async () => {
      await admin.apply({
        apiVersion: API,
        kind: 'Tenant',
        metadata: { name: b },
        spec: {
          owners: [{ kind: 'User', name: ownerB }],
          policy: {
            allowedRegistries: ['ghcr.io/acme'],
            allowedIngressDomains: [domainB, domainA],
            allowedServiceTypes: ['ClusterIP', 'NodePort'],
          },
        },
      });
      const host = `race-${sfx}.${domainA}`;
      const ingress = (name: string) => ({
        apiVersion: 'networking.k8s.io/v1',
        kind: 'Ingress',
        metadata: { name },
        spec: {
          rules: [
            {
              host,
              http: {
                paths: [
                  {
                    path: '/',
                    pathType: 'Prefix',
                    backend: { service: { name: 'web', port: { number: 80 } } },
                  },
                ],
              },
            },
          ],
        },
      });
      const path = (ns: string) => `/apis/networking.k8s.io/v1/namespaces/${ns}/ingresses`;
      await eventually('policy change seen by admission', async () => {
        const err = await errorOf(post(path(nsB), ingress('probe'), as(ownerB), true)).catch(() => undefined);
        return err === undefined || !err.message.includes('hostname-domain') ? true : undefined;
      });
      // Both tenants at once, interleaved: the cache cannot have seen any of these yet.
      const attempts = Array.from({ length: 10 }, (_, i) => {
        const [ns, user, tenant] = i % 2 ? [nsB, ownerB, b] : [nsA, devA, a];
        return post(path(ns), ingress(`race-${i}`), as(user)).then(
          () => ({ tenant, ns, name: `race-${i}`, error: undefined as string | undefined }),
          (err: Error) => ({ tenant, ns, name: `race-${i}`, error: err.message }),
        );
      });
      const results = await Promise.all(attempts);
      const winners = new Set(results.filter((r) => !r.error).map((r) => r.tenant));
      expect(winners.size).toBe(1);
      const [winner] = [...winners];
      for (const r of results.filter((x) => x.tenant !== winner)) {
        expect(r.error).toContain('kubeOP rule hostname-owner');
      }
      expect(results.filter((r) => !r.error)).toHaveLength(5);

      // The winner stops using the hostname; after the grace period the other tenant may take it.
      for (const r of results.filter((x) => !x.error)) {
        await admin.request('DELETE', `${path(r.ns)}/${r.name}`);
      }
      const [loserNs, loserUser] = winner === a ? [nsB, ownerB] : [nsA, devA];
      await eventually('the unused hostname is free again', async () =>
        post(path(loserNs), ingress('race-after'), as(loserUser)).then(
          () => true,
          () => undefined,
        ),
      );
    });

    it('GR-SERVICE: LoadBalancer services and external IPs only when the tenant policy allows', async () => {
      const svc = (name: string, spec: Record<string, unknown>) => ({
        metadata: { name },
        spec: { selector: { app: 'web' }, ports: [{ port: 80 }], ...spec },
      });
      const lb = await errorOf(
        post(`/api/v1/namespaces/${nsB}/services`, svc('lb', { type: 'LoadBalancer' }), as(ownerB), true),
      );
      expect(lb.message).toContain('kubeOP rule service-type: a Service of type LoadBalancer');
      const ips = await errorOf(
        post(
          `/api/v1/namespaces/${nsB}/services`,
          svc('ips', { externalIPs: ['203.0.113.7'] }),
          as(ownerB),
          true,
        ),
      );
      expect(ips.message).toContain('kubeOP rule service-external-ips');
      await post(`/api/v1/namespaces/${nsB}/services`, svc('plain', {}), as(ownerB), true);
    });

    it('GR-NSLABEL: the labels binding a namespace to its tenant cannot be changed by anyone but kubeOP', async () => {
      // Tenants have no cluster-scoped rights at all; give a helper the right to patch namespaces
      // so that it is admission, not RBAC, that refuses.
      const helper = `ns-helper-${sfx}`;
      await clusterRbac('clusterroles', {
        metadata: { name: helper },
        rules: [{ apiGroups: [''], resources: ['namespaces'], verbs: ['get', 'patch', 'update'] }],
      });
      await clusterRbac('clusterrolebindings', {
        metadata: { name: helper },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: helper },
        subjects: [{ kind: 'User', name: helper, apiGroup: 'rbac.authorization.k8s.io' }],
      });
      const patch = (labels: Record<string, string | null>) =>
        admin.request('PATCH', `/api/v1/namespaces/${nsA}`, {
          body: { metadata: { labels } },
          contentType: 'application/merge-patch+json',
          ...as(helper),
        });
      try {
        const err = await eventually('RBAC binding in force', async () => {
          const e = await errorOf(patch({ 'paas.kubeop.io/tenant': b }));
          return e.message.includes('kubeOP rule') ? e : undefined;
        });
        expect(err.message).toContain(
          `kubeOP rule namespace-labels: the labels paas.kubeop.io/tenant of namespace ${nsA} are kubeOP's`,
        );
        const psa = await errorOf(patch({ 'pod-security.kubernetes.io/enforce': 'privileged' }));
        expect(psa.message).toContain('pod-security.kubernetes.io/enforce');
        expect((await errorOf(patch({ 'paas.kubeop.io/project': null }))).code).toBe(403);
        await patch({ 'team.example/owner': 'web' });
      } finally {
        await removeClusterRbac(helper);
      }
    });

    it("GR-REFERENCES: Projects and Apps that reference another tenant's objects are refused", async () => {
      const creators = `project-creators-${sfx}`;
      await clusterRbac('clusterroles', {
        metadata: { name: creators },
        rules: [{ apiGroups: ['paas.kubeop.io'], resources: ['projects'], verbs: ['create'] }],
      });
      await clusterRbac('clusterrolebindings', {
        metadata: { name: creators },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: creators },
        subjects: [{ kind: 'Group', name: creators, apiGroup: 'rbac.authorization.k8s.io' }],
      });
      try {
        const project = (t: string) => ({
          apiVersion: API,
          kind: 'Project',
          metadata: { name: `x-${sfx}` },
          spec: { tenantRef: { name: t } },
        });
        const err = await eventually('RBAC binding in force', async () => {
          const e = await errorOf(post(`/apis/${API}/projects`, project(b), as(ownerA, [creators]), true));
          return e.message.includes('kubeOP rule') ? e : undefined;
        });
        expect(err.message).toContain(
          `kubeOP rule project-tenant: Project x-${sfx} names tenant "${b}", and ${ownerA} is not an owner of such a tenant.`,
        );
        await post(`/apis/${API}/projects`, project(a), as(ownerA, [creators]), true);
      } finally {
        await removeClusterRbac(creators);
      }
      const app = await errorOf(
        post(
          `/apis/${API}/namespaces/${nsA}/apps`,
          {
            apiVersion: API,
            kind: 'App',
            metadata: { name: 'sneaky' },
            spec: {
              source: {
                raw: {
                  manifests: [
                    { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', namespace: nsB } },
                  ],
                },
              },
            },
          },
          as(devA),
          true,
        ),
      );
      expect(app.message).toContain(
        `kubeOP rule app-namespace: spec.source.raw.manifests[0] (ConfigMap c) names namespace ${nsB}`,
      );
      const image = await errorOf(
        post(
          `/apis/${API}/namespaces/${nsA}/apps`,
          {
            apiVersion: API,
            kind: 'App',
            metadata: { name: 'img' },
            spec: { source: { image: { ref: 'quay.io/x/y:1' } } },
          },
          as(devA),
          true,
        ),
      );
      expect(image.message).toContain('kubeOP rule allowed-registries: spec.source.image.ref of this App');
    });

    it('the operator and the control plane are never stopped by the webhooks', async () => {
      // The in-process operator writes as cluster admin (system:masters): it restores what it manages.
      await admin.delete({
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'Role',
        name: 'kubeop-view',
        namespace: nsA,
      });
      await eventually('role recreated', () =>
        admin.find({
          apiVersion: 'rbac.authorization.k8s.io/v1',
          kind: 'Role',
          name: 'kubeop-view',
          namespace: nsA,
        }),
      );
      // The configured operator username passes without system:masters; another ServiceAccount with
      // the same RBAC rights does not. (RBAC is checked before admission, so both get the rights.)
      const binding = `e2e-identity-${sfx}`;
      await admin.apply({
        apiVersion: RBAC,
        kind: 'RoleBinding',
        metadata: { name: binding, namespace: nsA },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'kubeop-admin' },
        subjects: [
          { kind: 'ServiceAccount', name: 'kubeop', namespace: 'kubeop-system' },
          { kind: 'ServiceAccount', name: 'impostor', namespace: 'kubeop-system' },
        ],
      });
      try {
        const policy = `/apis/networking.k8s.io/v1/namespaces/${nsA}/networkpolicies/kubeop-allow-dns`;
        const impostor = await eventually('RBAC binding in force', async () => {
          const e = await errorOf(
            admin.request('DELETE', policy, as('system:serviceaccount:kubeop-system:impostor')),
          );
          return e.message.includes('kubeOP rule') ? e : undefined;
        });
        expect(impostor.message).toContain(
          'kubeOP rule managed-object: NetworkPolicy kubeop-allow-dns is managed by kubeOP',
        );
        await admin.request('DELETE', policy, as('system:serviceaccount:kubeop-system:kubeop'));
        await eventually('policy restored by the operator', () =>
          admin.find({
            apiVersion: 'networking.k8s.io/v1',
            kind: 'NetworkPolicy',
            name: 'kubeop-allow-dns',
            namespace: nsA,
          }),
        );
      } finally {
        await admin.delete({ apiVersion: RBAC, kind: 'RoleBinding', name: binding, namespace: nsA });
      }
    });
  });
});
