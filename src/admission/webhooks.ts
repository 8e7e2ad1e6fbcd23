import type { ClaimRequest } from './claims.ts';
import type { AdmissionRequest } from './review.ts';
import type { RuleContext, RuleFamily } from './rules/context.ts';
import { mutatePod } from './rules/pod-defaults.ts';
import { validateWorkloadImages } from './rules/images.ts';
import { validateManagedObject } from './rules/managed.ts';
import { validateNamespaceLabels } from './rules/namespaces.ts';
import { validateApp, validateProject } from './rules/references.ts';
import { hostnamesToClaim, validateRoute } from './rules/hostnames.ts';
import { validateService } from './rules/services.ts';
import { validateVolumeClaim } from './rules/volumes.ts';

export interface WebhookRule {
  apiGroups: string[];
  apiVersions: string[];
  resources: string[];
  operations: Array<'CREATE' | 'UPDATE' | 'DELETE'>;
  scope: 'Namespaced' | 'Cluster';
}

/**
 * Which requests a webhook sees:
 * - `tenant-namespaces`: objects inside kubeOP tenant namespaces (namespaceSelector);
 * - `tenant-namespace-objects`: Namespace objects labelled as tenant namespaces before or after the
 *   change (objectSelector — a namespaceSelector would judge a Namespace by its new labels, so
 *   removing the tenant label would skip the webhook);
 * - `cluster`: cluster-scoped kubeOP objects (Projects).
 */
export type Selection = 'tenant-namespaces' | 'tenant-namespace-objects' | 'cluster';

export interface WebhookDefinition {
  /** Fully qualified webhook name; the API server prefixes denials with it. */
  name: string;
  path: string;
  type: 'validating' | 'mutating';
  rules: WebhookRule[];
  selection: Selection;
  /** Skip trusted identities with a matchCondition (the handler checks them too). */
  skipTrusted: boolean;
  family: RuleFamily;
  /** Hostnames an allowed request must claim atomically before it is admitted (claims.ts). */
  claims?: (req: AdmissionRequest, ctx: RuleContext) => ClaimRequest | undefined;
}

const all = ['CREATE', 'UPDATE'] as WebhookRule['operations'];
const ns = (
  apiGroups: string[],
  resources: string[],
  operations = all,
  apiVersions = ['v1'],
): WebhookRule => ({
  apiGroups,
  apiVersions,
  resources,
  operations,
  scope: 'Namespaced',
});

/**
 * Every webhook kubeOP registers, generated into its Validating- and MutatingWebhookConfiguration:
 * only the kinds and operations a rule family polices. Status and other subresources are left out
 * (except ephemeral containers, which add images to a running pod).
 */
export const WEBHOOKS: WebhookDefinition[] = [
  {
    name: 'workloads.validate.paas.kubeop.io',
    path: '/validate/workloads',
    type: 'validating',
    rules: [
      ns([''], ['pods', 'replicationcontrollers']),
      ns([''], ['pods/ephemeralcontainers'], ['UPDATE']),
      ns(['apps'], ['deployments', 'replicasets', 'statefulsets', 'daemonsets']),
      ns(['batch'], ['jobs', 'cronjobs']),
    ],
    selection: 'tenant-namespaces',
    skipTrusted: false,
    family: validateWorkloadImages,
  },
  {
    name: 'services.validate.paas.kubeop.io',
    path: '/validate/services',
    type: 'validating',
    rules: [ns([''], ['services'])],
    selection: 'tenant-namespaces',
    skipTrusted: false,
    family: validateService,
  },
  {
    name: 'routes.validate.paas.kubeop.io',
    path: '/validate/routes',
    type: 'validating',
    rules: [ns(['networking.k8s.io'], ['ingresses']), ns(['gateway.networking.k8s.io'], ['httproutes'])],
    selection: 'tenant-namespaces',
    skipTrusted: false,
    family: validateRoute,
    claims: hostnamesToClaim,
  },
  {
    name: 'apps.validate.paas.kubeop.io',
    path: '/validate/apps',
    type: 'validating',
    rules: [ns(['paas.kubeop.io'], ['apps'], all, ['v1alpha1'])],
    selection: 'tenant-namespaces',
    skipTrusted: false,
    family: validateApp,
    claims: hostnamesToClaim,
  },
  {
    name: 'managed.validate.paas.kubeop.io',
    path: '/validate/managed',
    type: 'validating',
    rules: [
      ns([''], ['resourcequotas', 'limitranges', 'serviceaccounts'], ['CREATE', 'UPDATE', 'DELETE']),
      ns(['networking.k8s.io'], ['networkpolicies'], ['CREATE', 'UPDATE', 'DELETE']),
      ns(['rbac.authorization.k8s.io'], ['roles', 'rolebindings'], ['CREATE', 'UPDATE', 'DELETE']),
    ],
    selection: 'tenant-namespaces',
    skipTrusted: true,
    family: validateManagedObject,
  },
  {
    name: 'volumes.validate.paas.kubeop.io',
    path: '/validate/volumes',
    type: 'validating',
    rules: [ns([''], ['persistentvolumeclaims'], ['CREATE'])],
    selection: 'tenant-namespaces',
    skipTrusted: true,
    family: validateVolumeClaim,
  },
  {
    name: 'namespaces.validate.paas.kubeop.io',
    path: '/validate/namespaces',
    type: 'validating',
    rules: [
      { apiGroups: [''], apiVersions: ['v1'], resources: ['namespaces'], operations: all, scope: 'Cluster' },
    ],
    selection: 'tenant-namespace-objects',
    skipTrusted: true,
    family: validateNamespaceLabels,
  },
  {
    name: 'projects.validate.paas.kubeop.io',
    path: '/validate/projects',
    type: 'validating',
    rules: [
      {
        apiGroups: ['paas.kubeop.io'],
        apiVersions: ['v1alpha1'],
        resources: ['projects'],
        operations: all,
        scope: 'Cluster',
      },
    ],
    selection: 'cluster',
    skipTrusted: true,
    family: validateProject,
  },
  {
    name: 'pods.mutate.paas.kubeop.io',
    path: '/mutate/pods',
    type: 'mutating',
    rules: [ns([''], ['pods'], ['CREATE'])],
    selection: 'tenant-namespaces',
    skipTrusted: false,
    family: mutatePod,
  },
];
