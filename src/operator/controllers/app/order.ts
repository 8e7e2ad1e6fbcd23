/**
 * The order objects of one revision are applied in, after gitops-engine's kind order: what others
 * refer to comes first, so a workload never starts before its ServiceAccount, Secrets, ConfigMaps
 * and claims exist, and what routes to a workload comes after it.
 *
 *   1. namespace-scoped config and RBAC: ServiceAccount, Secret, ConfigMap, Role, RoleBinding,
 *      NetworkPolicy, PersistentVolumeClaim (and Certificate, whose Secret an Ingress serves)
 *   2. Service
 *   3. workloads: Deployment, StatefulSet, DaemonSet, ReplicaSet, Job, CronJob
 *   4. what points at workloads: Ingress, HTTPRoute, HorizontalPodAutoscaler, PodDisruptionBudget
 *   5. any other kind
 *
 * Pruning deletes in the reverse order. The order is a convenience, not a guarantee of readiness:
 * kubeOP does not wait between groups (Kubernetes converges either way).
 */
const groups: readonly (readonly string[])[] = [
  [
    'ServiceAccount',
    'Secret',
    'ConfigMap',
    'Role',
    'RoleBinding',
    'NetworkPolicy',
    'PersistentVolumeClaim',
    'Certificate',
  ],
  ['Service'],
  ['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'Job', 'CronJob'],
  ['Ingress', 'HTTPRoute', 'HorizontalPodAutoscaler', 'PodDisruptionBudget'],
];

const rankOf = new Map<string, number>(
  groups.flatMap((kinds, g) => kinds.map((kind, i) => [kind, g * 100 + i] as const)),
);

/** The rank of a kind in the apply order; kinds not listed come last. */
export function kindRank(kind: string): number {
  return rankOf.get(kind) ?? groups.length * 100;
}

/**
 * `objects` in apply order: by kind rank, then by name, so the order is the same whatever order
 * the source rendered them in. Pure; returns a new array.
 */
export function applyOrder<T extends { kind: string; metadata: { name: string } }>(
  objects: readonly T[],
): T[] {
  return [...objects].sort(
    (a, b) =>
      kindRank(a.kind) - kindRank(b.kind) ||
      a.kind.localeCompare(b.kind) ||
      a.metadata.name.localeCompare(b.metadata.name),
  );
}

/** `objects` in prune order: the reverse of applyOrder (routes and workloads before their config). */
export function pruneOrder<T extends { kind: string; metadata: { name: string } }>(
  objects: readonly T[],
): T[] {
  return applyOrder(objects).reverse();
}
