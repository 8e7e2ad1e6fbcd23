import type { KubeObject } from '../../../schemas/kube-object.ts';

/**
 * The namespaced Roles of a project (never ClusterRoles: a tenant user's permissions end at the
 * namespace boundary — multi-tenancy check PL1-CC-CPI-1). No role grants ResourceQuota or
 * LimitRange writes (PL1-CC-TI-1). `admin` may manage RoleBindings, Roles and NetworkPolicies in
 * the namespace (PL2-BC-OPS-3/4); the API server's escalation check keeps any binding it creates
 * within the permissions the admin holds (PL2-CC-TI-1).
 */
const read = ['get', 'list', 'watch'];
const write = ['create', 'update', 'patch', 'delete', 'deletecollection'];

interface Rule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
}

const viewRules: Rule[] = [
  {
    apiGroups: [''],
    resources: [
      'pods',
      'pods/log',
      'services',
      'endpoints',
      'configmaps',
      'persistentvolumeclaims',
      'events',
      'serviceaccounts',
      'resourcequotas',
      'limitranges',
    ],
    verbs: read,
  },
  { apiGroups: ['apps'], resources: ['deployments', 'replicasets', 'statefulsets'], verbs: read },
  { apiGroups: ['batch'], resources: ['jobs', 'cronjobs'], verbs: read },
  { apiGroups: ['autoscaling'], resources: ['horizontalpodautoscalers'], verbs: read },
  { apiGroups: ['policy'], resources: ['poddisruptionbudgets'], verbs: read },
  { apiGroups: ['networking.k8s.io'], resources: ['ingresses', 'networkpolicies'], verbs: read },
  { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: read },
  { apiGroups: ['events.k8s.io'], resources: ['events'], verbs: read },
  { apiGroups: ['gateway.networking.k8s.io'], resources: ['httproutes'], verbs: read },
  { apiGroups: ['cert-manager.io'], resources: ['certificates'], verbs: read },
  { apiGroups: ['paas.kubeop.io'], resources: ['apps'], verbs: read },
];

/** What delivery (and people who deploy) may create: workloads and their configuration. */
const deliveryRules: Rule[] = [
  {
    apiGroups: [''],
    resources: ['services', 'configmaps', 'secrets', 'persistentvolumeclaims', 'serviceaccounts'],
    verbs: [...read, ...write],
  },
  {
    apiGroups: ['apps'],
    resources: ['deployments', 'statefulsets', 'deployments/scale'],
    verbs: [...read, ...write],
  },
  { apiGroups: ['batch'], resources: ['jobs', 'cronjobs'], verbs: [...read, ...write] },
  { apiGroups: ['autoscaling'], resources: ['horizontalpodautoscalers'], verbs: [...read, ...write] },
  { apiGroups: ['policy'], resources: ['poddisruptionbudgets'], verbs: [...read, ...write] },
  { apiGroups: ['networking.k8s.io'], resources: ['ingresses'], verbs: [...read, ...write] },
  { apiGroups: ['gateway.networking.k8s.io'], resources: ['httproutes'], verbs: [...read, ...write] },
  { apiGroups: ['cert-manager.io'], resources: ['certificates'], verbs: [...read, ...write] },
];

const editRules: Rule[] = [
  ...viewRules,
  ...deliveryRules,
  { apiGroups: [''], resources: ['pods'], verbs: ['create', 'delete', 'deletecollection'] },
  { apiGroups: [''], resources: ['pods/exec', 'pods/portforward'], verbs: ['create', 'get'] },
  { apiGroups: ['paas.kubeop.io'], resources: ['apps'], verbs: write },
];

const adminRules: Rule[] = [
  ...editRules,
  {
    apiGroups: ['rbac.authorization.k8s.io'],
    resources: ['roles', 'rolebindings'],
    verbs: [...read, ...write],
  },
  { apiGroups: ['networking.k8s.io'], resources: ['networkpolicies'], verbs: write },
];

export const ROLE_NAMES = { admin: 'kubeop-admin', edit: 'kubeop-edit', view: 'kubeop-view' } as const;
export const DEPLOYER = 'kubeop-deployer';

export function renderRoles(namespace: string, labels: Record<string, string>): KubeObject[] {
  const role = (name: string, rules: Rule[]): KubeObject => ({
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'Role',
    metadata: { name, namespace, labels },
    rules,
  });
  return [
    role(ROLE_NAMES.view, viewRules),
    role(ROLE_NAMES.edit, editRules),
    role(ROLE_NAMES.admin, adminRules),
    role(DEPLOYER, [...viewRules, ...deliveryRules]),
  ];
}
