import { parseQuantity } from './quantity.ts';

/** ResourceQuota resource names for the quota fields of Tenant and Project specs. */
export const quotaResourceNames = {
  cpu: 'requests.cpu',
  memory: 'requests.memory',
  limitsCpu: 'limits.cpu',
  limitsMemory: 'limits.memory',
  storage: 'requests.storage',
  pods: 'pods',
  services: 'services',
  loadBalancers: 'services.loadbalancers',
  nodePorts: 'services.nodeports',
  secrets: 'secrets',
  configMaps: 'configmaps',
  persistentVolumeClaims: 'persistentvolumeclaims',
} as const;

export type QuotaField = keyof typeof quotaResourceNames;

/**
 * Object counts every project namespace is capped at when its spec does not say otherwise
 * (multi-tenancy check PL1-CC-FNS-2: pods, services, secrets, configmaps and PVCs always have a
 * quota). Resources the tenant limits are never defaulted: they come from the tenant allocation.
 */
export const defaultProjectCounts: Record<string, bigint> = {
  pods: parseQuantity(50),
  services: parseQuantity(20),
  secrets: parseQuantity(100),
  configmaps: parseQuantity(100),
  persistentvolumeclaims: parseQuantity(20),
  'services.loadbalancers': 0n,
  'services.nodeports': 0n,
};

/** A spec quota object → ResourceQuota resource name → milli-units. */
export function quotaToResources(
  quota: Partial<Record<QuotaField, string | number>> | undefined,
): Record<string, bigint> {
  const out: Record<string, bigint> = {};
  for (const [field, value] of Object.entries(quota ?? {})) {
    // Fields that are no resource (unlimitedCompute) have no name and are skipped.
    const name = Object.hasOwn(quotaResourceNames, field)
      ? quotaResourceNames[field as QuotaField]
      : undefined;
    if (name !== undefined && (typeof value === 'string' || typeof value === 'number'))
      out[name] = parseQuantity(value);
  }
  return out;
}

/** ResourceQuota `status.hard` / `status.used` text → milli-units; unparseable entries are skipped. */
export function parseResourceList(list: Record<string, string> | undefined): Record<string, bigint> {
  const out: Record<string, bigint> = {};
  for (const [name, value] of Object.entries(list ?? {})) {
    try {
      out[name] = parseQuantity(value);
    } catch {
      // a resource kubeOP does not track; ignore
    }
  }
  return out;
}

/** The compute resources every project namespace gets a quota for by default (PL1-CC-FNS-1). */
export const COMPUTE_FIELDS = ['cpu', 'memory', 'limitsCpu', 'limitsMemory'] as const;
export type ComputeField = (typeof COMPUTE_FIELDS)[number];
export type ComputeQuota = Partial<Record<ComputeField, string>>;

/**
 * The platform default compute quota of a project namespace, when KUBEOP_PROJECT_QUOTA_* are unset:
 * enough for a few dozen default-sized pods (LimitRange 100m/128Mi requests, 500m/512Mi limits),
 * not a cluster.
 */
export const DEFAULT_PROJECT_COMPUTE_QUOTA = {
  cpu: '8',
  memory: '16Gi',
  limitsCpu: '16',
  limitsMemory: '32Gi',
} as const satisfies ComputeQuota;

/**
 * The compute quota a project gets for what its spec leaves unset: the tenant's
 * `spec.projectQuotaDefaults` field by field over the platform default, by ResourceQuota resource
 * name. Nothing when the project opts out (`spec.quota.unlimitedCompute: true`).
 */
export function defaultComputeQuota(
  platform: ComputeQuota,
  tenantDefaults: ComputeQuota | undefined,
  projectQuota: { unlimitedCompute?: boolean } | undefined,
): Record<string, bigint> {
  if (projectQuota?.unlimitedCompute) return {};
  const out: Record<string, bigint> = {};
  for (const field of COMPUTE_FIELDS) {
    const value = tenantDefaults?.[field] ?? platform[field];
    if (value !== undefined) out[quotaResourceNames[field]] = parseQuantity(value);
  }
  return out;
}
