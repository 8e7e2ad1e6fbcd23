import { LABEL_MANAGED_BY, LABEL_PROJECT, LABEL_TENANT, MANAGED_BY } from '../../../domain/naming.ts';
import { cpuMemory, DEFAULT_CONTAINER_LIMITS } from '../../../domain/limits.ts';
import type { ComputeQuota } from '../../../domain/quota.ts';
import type { Project, Tenant } from '../../../schemas/crds/types.ts';
import type { KubeObject } from '../../../schemas/kube-object.ts';
import { DEPLOYER, renderRoles, ROLE_NAMES } from './rbac.ts';

/** Platform settings the project objects depend on. */
export interface ProjectRenderOptions {
  /** Namespace of the ingress controller, allowed to reach every project's pods. */
  ingressNamespace: string;
  /**
   * Platform default compute quota of a project namespace (`KUBEOP_PROJECT_QUOTA_*`); a field left
   * out has none. Unset: DEFAULT_PROJECT_COMPUTE_QUOTA.
   */
  projectComputeQuota?: ComputeQuota;
}

/** Container defaults when a project sets no `limits`; see src/domain/limits.ts. */
export const defaultLimits = DEFAULT_CONTAINER_LIMITS;

export function projectLabels(tenant: string, project: string): Record<string, string> {
  return { [LABEL_MANAGED_BY]: MANAGED_BY, [LABEL_TENANT]: tenant, [LABEL_PROJECT]: project };
}

export function renderNamespace(project: Project, namespace: string): KubeObject {
  const tenant = project.spec.tenantRef.name;
  return {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: {
      name: namespace,
      labels: {
        ...projectLabels(tenant, project.metadata.name),
        // Pod Security Admission: the built-in engine enforces the restricted profile (no privileged
        // containers, host namespaces, hostPath, added capabilities, root, privilege escalation).
        'pod-security.kubernetes.io/enforce': 'restricted',
        'pod-security.kubernetes.io/enforce-version': 'latest',
        'pod-security.kubernetes.io/warn': 'restricted',
        'pod-security.kubernetes.io/audit': 'restricted',
      },
      ...(project.metadata.uid
        ? {
            ownerReferences: [
              {
                apiVersion: project.apiVersion,
                kind: project.kind,
                name: project.metadata.name,
                uid: project.metadata.uid,
                controller: true,
              },
            ],
          }
        : {}),
    },
  };
}

export function renderLimitRange(project: Project, namespace: string): KubeObject {
  const limits = project.spec.limits;
  const item: Record<string, unknown> = {
    type: 'Container',
    defaultRequest: cpuMemory(limits?.defaultRequest) ?? defaultLimits.defaultRequest,
    default: cpuMemory(limits?.default) ?? defaultLimits.default,
  };
  const max = cpuMemory(limits?.max);
  if (max) item.max = max;
  return {
    apiVersion: 'v1',
    kind: 'LimitRange',
    metadata: {
      name: 'kubeop-limits',
      namespace,
      labels: projectLabels(project.spec.tenantRef.name, project.metadata.name),
    },
    spec: { limits: [item] },
  };
}

/**
 * Network isolation (PL1-BC-NI-1): deny everything in and out, then allow only what a project
 * needs — its own pods (or its tenant's, in Tenant mode), the ingress controller, cluster DNS, and
 * the tenant's allowed egress CIDRs.
 */
export function renderNetworkPolicies(
  tenant: Tenant | undefined,
  project: Project,
  namespace: string,
  opts: ProjectRenderOptions,
): KubeObject[] {
  const tenantName = project.spec.tenantRef.name;
  const labels = projectLabels(tenantName, project.metadata.name);
  const policy = (name: string, spec: Record<string, unknown>): KubeObject => ({
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name, namespace, labels },
    spec: { podSelector: {}, ...spec },
  });
  const peers =
    project.spec.network?.isolation === 'Tenant'
      ? [{ namespaceSelector: { matchLabels: { [LABEL_TENANT]: tenantName } } }]
      : [{ podSelector: {} }];
  const out = [
    policy('kubeop-default-deny', { policyTypes: ['Ingress', 'Egress'] }),
    policy('kubeop-allow-same-project', {
      policyTypes: ['Ingress', 'Egress'],
      ingress: [{ from: peers }],
      egress: [{ to: peers }],
    }),
    policy('kubeop-allow-ingress-controller', {
      policyTypes: ['Ingress'],
      ingress: [
        {
          from: [
            { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': opts.ingressNamespace } } },
          ],
        },
      ],
    }),
    policy('kubeop-allow-dns', {
      policyTypes: ['Egress'],
      egress: [
        {
          to: [
            {
              namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } },
              podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } },
            },
          ],
          ports: [
            { protocol: 'UDP', port: 53 },
            { protocol: 'TCP', port: 53 },
          ],
        },
      ],
    }),
  ];
  const cidrs = tenant?.spec.policy?.egressCIDRs ?? [];
  if (cidrs.length) {
    out.push(
      policy('kubeop-allow-egress-cidrs', {
        policyTypes: ['Egress'],
        egress: [{ to: cidrs.map((cidr) => ({ ipBlock: { cidr } })) }],
      }),
    );
  }
  return out;
}

const rbacGroup = 'rbac.authorization.k8s.io';

function binding(
  namespace: string,
  labels: Record<string, string>,
  name: string,
  role: string,
  subjects: unknown[],
): KubeObject {
  return {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'RoleBinding',
    metadata: { name, namespace, labels },
    roleRef: { apiGroup: rbacGroup, kind: 'Role', name: role },
    subjects,
  };
}

/** Roles, the deployer ServiceAccount that delivery impersonates, and its binding. */
export function renderAccess(project: Project, namespace: string): KubeObject[] {
  const labels = projectLabels(project.spec.tenantRef.name, project.metadata.name);
  return [
    ...renderRoles(namespace, labels),
    {
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      metadata: { name: DEPLOYER, namespace, labels },
      automountServiceAccountToken: false,
    },
    binding(namespace, labels, DEPLOYER, DEPLOYER, [{ kind: 'ServiceAccount', name: DEPLOYER, namespace }]),
  ];
}

/**
 * One RoleBinding per role with members in it. Tenant owners are admins of every project of their
 * tenant. Bindings are only rendered once the project's ResourceQuota exists, so nobody can create
 * anything in a namespace before its quota is in force (PL1-CC-FNS-1).
 */
export function renderMemberBindings(
  tenant: Tenant | undefined,
  project: Project,
  namespace: string,
): KubeObject[] {
  const labels = projectLabels(project.spec.tenantRef.name, project.metadata.name);
  const byRole: Record<'admin' | 'edit' | 'view', Array<{ kind: string; name: string; apiGroup: string }>> = {
    admin: [],
    edit: [],
    view: [],
  };
  const seen = new Set<string>();
  const add = (role: 'admin' | 'edit' | 'view', kind: string, name: string) => {
    const key = `${role}/${kind}/${name}`;
    if (seen.has(key)) return;
    seen.add(key);
    byRole[role].push({ kind, name, apiGroup: rbacGroup });
  };
  for (const owner of tenant?.spec.owners ?? []) add('admin', owner.kind, owner.name);
  for (const m of project.spec.members ?? []) add(m.role, m.kind, m.name);
  return (['admin', 'edit', 'view'] as const)
    .filter((role) => byRole[role].length > 0)
    .map((role) => binding(namespace, labels, `kubeop-${role}-members`, ROLE_NAMES[role], byRole[role]));
}
