/**
 * Container defaults when a Project sets no `spec.limits`. The Project reconciler writes them into
 * the namespace's LimitRange and the admission webhook fills the same values into pods, so a pod
 * gets the same resources whichever of the two gave them (a quota on requests needs every pod to
 * have them).
 */
export const DEFAULT_CONTAINER_LIMITS = {
  defaultRequest: { cpu: '100m', memory: '128Mi' },
  default: { cpu: '500m', memory: '512Mi' },
} as const;

/**
 * The cpu and memory entries of a resource list that are set, or undefined when neither is (so a
 * caller can fall back to a default with `??`).
 */
export function cpuMemory(
  v: { cpu?: string; memory?: string } | undefined,
): Record<string, string> | undefined {
  const out: Record<string, string> = {};
  if (v?.cpu) out.cpu = v.cpu;
  if (v?.memory) out.memory = v.memory;
  return Object.keys(out).length ? out : undefined;
}
