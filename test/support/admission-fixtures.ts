// Small builders for admission tests: requests, tenants, a view over fixed data, and a JSON Patch
// applier so mutation tests can check the patched object rather than the patch text.
import { LABEL_MANAGED_BY, LABEL_PROJECT, LABEL_TENANT, MANAGED_BY } from '../../src/domain/naming.ts';
import type { RuleContext } from '../../src/admission/rules/context.ts';
import type { AdmissionRequest, JsonPatchOperation } from '../../src/admission/review.ts';
import type { HostClaim, NamespaceTenancy, TenancyView } from '../../src/admission/tenancy.ts';
import type { Project, Tenant } from '../../src/schemas/crds/types.ts';

export const NS = 'acme-web-1a2b3c4d';
export const TENANT = 'acme';
export const PROJECT = 'web';

export function tenant(
  name: string,
  policy: Tenant['spec']['policy'] = {},
  owners: Tenant['spec']['owners'] = [{ kind: 'User', name: `${name}-owner` }],
): Tenant {
  return {
    apiVersion: 'paas.kubeop.io/v1alpha1',
    kind: 'Tenant',
    metadata: { name },
    spec: { owners, policy },
  };
}

export function project(name: string, tenantName: string, spec: Partial<Project['spec']> = {}): Project {
  return {
    apiVersion: 'paas.kubeop.io/v1alpha1',
    kind: 'Project',
    metadata: { name },
    spec: { tenantRef: { name: tenantName }, ...spec },
  };
}

export interface ViewData {
  namespaces?: NamespaceTenancy[];
  tenants?: Tenant[];
  projects?: Project[];
  claims?: Array<HostClaim & { host: string }>;
}

/** A view over fixed data; by default namespace NS of tenant acme (registries ghcr.io/acme, docker.io). */
export function fakeView(data: ViewData = {}): TenancyView {
  const namespaces = data.namespaces ?? [{ namespace: NS, tenant: TENANT, project: PROJECT }];
  const tenants = data.tenants ?? [
    tenant(TENANT, {
      allowedRegistries: ['ghcr.io/acme', 'docker.io'],
      allowedIngressDomains: ['acme.example'],
    }),
  ];
  const projects = data.projects ?? [project(PROJECT, TENANT)];
  return {
    namespace: (n) => namespaces.find((x) => x.namespace === n),
    tenant: (n) => tenants.find((t) => t.metadata.name === n),
    project: (n) => projects.find((p) => p.metadata.name === n),
    hostClaims: (host) => (data.claims ?? []).filter((c) => c.host === host).map(({ host: _h, ...c }) => c),
  };
}

export function ruleContext(
  view: TenancyView = fakeView(),
  overrides: Partial<RuleContext> = {},
): RuleContext {
  return {
    view,
    trusted: { operatorUsername: 'system:serviceaccount:kubeop-system:kubeop' },
    imagePullPolicy: 'Always',
    ...overrides,
  };
}

const groups: Record<string, [group: string, version: string, resource: string]> = {
  Pod: ['', 'v1', 'pods'],
  Service: ['', 'v1', 'services'],
  Namespace: ['', 'v1', 'namespaces'],
  ResourceQuota: ['', 'v1', 'resourcequotas'],
  LimitRange: ['', 'v1', 'limitranges'],
  ServiceAccount: ['', 'v1', 'serviceaccounts'],
  PersistentVolumeClaim: ['', 'v1', 'persistentvolumeclaims'],
  Deployment: ['apps', 'v1', 'deployments'],
  CronJob: ['batch', 'v1', 'cronjobs'],
  NetworkPolicy: ['networking.k8s.io', 'v1', 'networkpolicies'],
  Ingress: ['networking.k8s.io', 'v1', 'ingresses'],
  HTTPRoute: ['gateway.networking.k8s.io', 'v1', 'httproutes'],
  Role: ['rbac.authorization.k8s.io', 'v1', 'roles'],
  RoleBinding: ['rbac.authorization.k8s.io', 'v1', 'rolebindings'],
  Project: ['paas.kubeop.io', 'v1alpha1', 'projects'],
  App: ['paas.kubeop.io', 'v1alpha1', 'apps'],
};

let uid = 0;

/** An AdmissionRequest for `kind`, by default a CREATE in NS by a tenant user. */
export function request(
  kind: string,
  object: unknown,
  over: Partial<AdmissionRequest> = {},
): AdmissionRequest {
  const [group, version, resource] = groups[kind] ?? ['', 'v1', `${kind.toLowerCase()}s`];
  const raw = (object as { metadata?: { name?: unknown } } | undefined)?.metadata?.name;
  const name = typeof raw === 'string' ? raw : undefined;
  return {
    uid: `uid-${++uid}`,
    kind: { group, version, kind },
    resource: { group, version, resource },
    operation: 'CREATE',
    userInfo: { username: 'alice', groups: ['system:authenticated'] },
    namespace: kind === 'Namespace' || kind === 'Project' ? undefined : NS,
    ...(name ? { name } : {}),
    object,
    ...over,
  } as AdmissionRequest;
}

/** The raw AdmissionReview body the API server would POST. */
export function reviewBody(req: AdmissionRequest): Record<string, unknown> {
  return { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request: req };
}

export function pod(
  spec: Record<string, unknown> = {},
  meta: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'p', namespace: NS, ...meta },
    spec: { containers: [{ name: 'app', image: 'ghcr.io/acme/web:1' }], ...spec },
  };
}

export function managedLabels(): Record<string, string> {
  return { [LABEL_MANAGED_BY]: MANAGED_BY, [LABEL_TENANT]: TENANT, [LABEL_PROJECT]: PROJECT };
}

function unescape(segment: string): string {
  return segment.replaceAll('~1', '/').replaceAll('~0', '~');
}

/** RFC 6902 add/replace/remove on a deep copy (what the API server does with a JSONPatch). */
export function applyJsonPatch<T>(doc: T, ops: JsonPatchOperation[]): T {
  const root = structuredClone(doc) as unknown;
  for (const op of ops) {
    const parts = op.path.split('/').slice(1).map(unescape);
    const last = parts.pop()!;
    let parent = root as Record<string, unknown> | unknown[];
    for (const p of parts) {
      const next = Array.isArray(parent) ? parent[Number(p)] : parent[p];
      if (typeof next !== 'object' || next === null) throw new Error(`path ${op.path} does not exist`);
      parent = next as Record<string, unknown>;
    }
    if (Array.isArray(parent)) {
      const i = last === '-' ? parent.length : Number(last);
      if (op.op === 'add') parent.splice(i, 0, op.value);
      else if (op.op === 'replace') parent[i] = op.value;
      else parent.splice(i, 1);
    } else {
      if (op.op === 'replace' && !(last in parent)) throw new Error(`replace of missing ${op.path}`);
      if (op.op === 'add' && last in parent) {
        // RFC 6902 allows add over an existing member, but kubeOP's patches never rely on it.
        throw new Error(`add over existing ${op.path}`);
      }
      if (op.op === 'remove') delete parent[last];
      else parent[last] = op.value;
    }
  }
  return root as T;
}
