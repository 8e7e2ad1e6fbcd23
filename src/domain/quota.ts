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
    const name = quotaResourceNames[field as QuotaField];
    if (name !== undefined && value !== undefined) out[name] = parseQuantity(value);
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
