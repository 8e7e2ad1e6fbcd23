/**
 * The kinds an App may deliver: exactly what the project's deployer Role grants (see
 * project/rbac.ts; a unit test keeps the two in step), at the one API version kubeOP watches and
 * compares them in. Anything else is refused before any request, with a message naming what is
 * allowed; the deployer's RBAC and a server-side dry run then check every object again.
 */
export const DELIVERABLE_KINDS = [
  { apiVersion: 'apps/v1', kind: 'Deployment' },
  { apiVersion: 'apps/v1', kind: 'StatefulSet' },
  { apiVersion: 'batch/v1', kind: 'Job' },
  { apiVersion: 'batch/v1', kind: 'CronJob' },
  { apiVersion: 'v1', kind: 'Service' },
  { apiVersion: 'v1', kind: 'ConfigMap' },
  { apiVersion: 'v1', kind: 'Secret' },
  { apiVersion: 'v1', kind: 'PersistentVolumeClaim' },
  { apiVersion: 'v1', kind: 'ServiceAccount' },
  { apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler' },
  { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget' },
  { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress' },
  { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute' },
  { apiVersion: 'cert-manager.io/v1', kind: 'Certificate' },
] as const;

export type DeliverableKind = (typeof DELIVERABLE_KINDS)[number];

/** Kinds from CRDs a cluster may not have installed; their caches start only where they are served. */
export const OPTIONAL_KINDS = new Set([
  'gateway.networking.k8s.io/v1/HTTPRoute',
  'cert-manager.io/v1/Certificate',
]);

export const kindKey = (o: { apiVersion: string; kind: string }) => `${o.apiVersion}/${o.kind}`;

const byKey = new Map<string, DeliverableKind>(DELIVERABLE_KINDS.map((k) => [kindKey(k), k]));
const byKind = new Map<string, DeliverableKind>(DELIVERABLE_KINDS.map((k) => [k.kind, k]));

export function deliverable(apiVersion: string, kind: string): DeliverableKind | undefined {
  return byKey.get(`${apiVersion}/${kind}`);
}

/** The supported apiVersion of a deliverable kind given at another version (`autoscaling/v1`). */
export function supportedVersionOf(kind: string): string | undefined {
  return byKind.get(kind)?.apiVersion;
}

export { CLUSTER_SCOPED_KINDS } from '../../../kube/resources.ts';
