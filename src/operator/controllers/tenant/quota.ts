import { formatQuantity } from '../../../domain/quantity.ts';
import { defaultProjectCounts, quotaToResources } from '../../../domain/quota.ts';
import type { Project } from '../../../schemas/crds/types.ts';
import type { KubeObject } from '../../../schemas/kube-object.ts';
import { projectLabels } from '../project/render.ts';

export const QUOTA_NAME = 'kubeop-quota';
export const ANNOTATION_QUOTA_DENIED = 'paas.kubeop.io/quota-denied';

/**
 * What a project asks for, by ResourceQuota resource: its spec, plus the default object counts and
 * the default compute quota (`computeDefaults`, see defaultComputeQuota) for what it leaves unset —
 * except resources the tenant limits, which come only from the spec (unset means nothing of it is
 * allocated). So no project namespace is ever without a cpu and memory quota unless it opts out.
 */
export function requestedResources(
  project: Project,
  tenantLimited: ReadonlySet<string>,
  computeDefaults: Record<string, bigint>,
): Record<string, bigint> {
  const spec = quotaToResources(project.spec.quota);
  const out: Record<string, bigint> = {};
  for (const [name, value] of Object.entries({ ...defaultProjectCounts, ...computeDefaults }))
    if (!tenantLimited.has(name)) out[name] = value;
  return { ...out, ...spec };
}

/** The project's ResourceQuota: tenant shares for tenant-limited resources, the request for the rest. */
export function renderResourceQuota(
  project: Project,
  namespace: string,
  requested: Record<string, bigint>,
  shares: Record<string, bigint>,
  denied: string[],
): KubeObject {
  const hard: Record<string, string> = {};
  for (const [name, value] of Object.entries({ ...requested, ...shares }).sort(([a], [b]) =>
    a.localeCompare(b),
  )) {
    hard[name] = formatQuantity(value);
  }
  return {
    apiVersion: 'v1',
    kind: 'ResourceQuota',
    metadata: {
      name: QUOTA_NAME,
      namespace,
      labels: projectLabels(project.spec.tenantRef.name, project.metadata.name),
      annotations: { [ANNOTATION_QUOTA_DENIED]: [...denied].sort().join(',') },
    },
    spec: { hard },
  };
}
