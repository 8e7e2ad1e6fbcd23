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
