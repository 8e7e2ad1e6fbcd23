import { setCondition } from '../../../domain/conditions.ts';
import { LABEL_PROJECT, LABEL_TENANT, projectNamespace } from '../../../domain/naming.ts';
import { formatQuantity } from '../../../domain/quantity.ts';
import {
  type ComputeQuota,
  defaultComputeQuota,
  parseResourceList,
  quotaToResources,
} from '../../../domain/quota.ts';
import { allocateTenantQuota, type ProjectQuotaState } from '../../../domain/tenant-quota.ts';
import { isSubset, withoutEmptyCollections } from '../../../kube/compare.ts';
import type { KubeClient } from '../../../kube/client.ts';
import type { EventRecorder } from '../../../kube/events.ts';
import type { Project, Tenant } from '../../../schemas/crds/types.ts';
import type { TenantStatus } from '../../../schemas/crds/tenant.ts';
import type { KubeObject } from '../../../schemas/kube-object.ts';
import type { Logger } from '../../../platform/logging.ts';
import type { Result } from '../../runtime/controller.ts';
import { reconcileWithFinalizer } from '../../runtime/finalizer.ts';
import { INDEX_TENANT, type Store } from '../store.ts';
import { QUOTA_NAME, renderResourceQuota, requestedResources } from './quota.ts';

export interface TenantReconcilerDeps {
  client: KubeClient;
  tenants: Store<Tenant>;
  projects: Store<Project>;
  namespaces: Store;
  events: EventRecorder;
  logger: Logger;
  /** Platform default compute quota of project namespaces (see defaultComputeQuota). */
  computeQuota: ComputeQuota;
  now?: () => Date;
}

interface QuotaObject extends KubeObject {
  spec?: { hard?: Record<string, string> };
  status?: { hard?: Record<string, string>; used?: Record<string, string> };
}

const toText = (r: Record<string, bigint>) =>
  Object.fromEntries(Object.entries(r).map(([k, v]) => [k, formatQuantity(v)]));

/**
 * Reconciles one Tenant: allocates its quota to its projects' ResourceQuotas, reports namespaces and
 * usage, and on deletion deletes its projects first.
 *
 * Concurrency contract: a tenant key is never reconciled twice at once and only the elected leader
 * reconciles, so allocations for one tenant are computed one at a time. The ResourceQuotas are read
 * straight from the API server (not the cache) so an allocation never builds on a share this
 * process wrote a moment ago but the cache has not seen yet. See src/domain/tenant-quota.ts for why
 * usage can never exceed the tenant quota.
 */
export function tenantReconciler(deps: TenantReconcilerDeps): (key: string) => Promise<Result> {
  const now = deps.now ?? (() => new Date());

  /** Deletes the tenant's projects; done once none is left (each waits for its namespace). */
  async function cleanup(tenant: Tenant): Promise<boolean> {
    const projects = deps.projects.byIndex(INDEX_TENANT, tenant.metadata.name);
    if (projects.length === 0) {
      deps.logger.info({ tenant: tenant.metadata.name }, 'tenant deleted after its projects');
      return true;
    }
    if (projects.some((p) => !p.metadata.deletionTimestamp)) {
      deps.events.record(
        tenant,
        'Normal',
        'DeletingProjects',
        `deleting ${projects.length} project(s) before the tenant`,
      );
    }
    for (const p of projects) {
      if (!p.metadata.deletionTimestamp) {
        await deps.client.delete({ apiVersion: p.apiVersion, kind: p.kind, name: p.metadata.name });
      }
    }
    return false;
  }

  return async function reconcile(key: string): Promise<Result> {
    const tenant = deps.tenants.get(key);
    if (!tenant) return;
    return reconcileWithFinalizer(deps.client, tenant, {
      apply: () => applyTenant(tenant),
      cleanup: () => cleanup(tenant),
    });
  };

  async function applyTenant(tenant: Tenant): Promise<Result> {
    const name = tenant.metadata.name;

    const limits = quotaToResources(tenant.spec.quota);
    const limited = new Set(Object.keys(limits));
    const projects = deps.projects.byIndex(INDEX_TENANT, name);
    const quotas = await deps.client.list<QuotaObject>('v1', 'ResourceQuota', {
      labelSelector: `${LABEL_TENANT}=${name}`,
    });
    const quotaByProject = new Map(
      quotas
        .filter((q) => q.metadata.name === QUOTA_NAME)
        .map((q) => [q.metadata.labels?.[LABEL_PROJECT] ?? '', q]),
    );

    const states: ProjectQuotaState[] = projects.map((p) => {
      const q = quotaByProject.get(p.metadata.name);
      const hard = parseResourceList(q?.spec?.hard);
      return {
        name: p.metadata.name,
        createdAt: p.metadata.creationTimestamp ?? '',
        // A project on its way out keeps what it holds until its namespace is gone, and asks for no more.
        requested: p.metadata.deletionTimestamp
          ? hard
          : requestedResources(
              p,
              limited,
              defaultComputeQuota(deps.computeQuota, tenant.spec.projectQuotaDefaults, p.spec.quota),
            ),
        hard,
        used: parseResourceList(q?.status?.used),
      };
    });
    const allocation = allocateTenantQuota(limits, states);

    const byName = new Map(projects.map((p) => [p.metadata.name, p]));
    const write = async (projectName: string, shares: Record<string, bigint>) => {
      const project = byName.get(projectName)!;
      if (project.metadata.deletionTimestamp) return;
      const namespace = projectNamespace(name, projectName);
      if (!deps.namespaces.get(namespace)) return; // the Project reconciler creates it first
      const state = states.find((s) => s.name === projectName)!;
      const desired = renderResourceQuota(
        project,
        namespace,
        state.requested,
        shares,
        allocation.denied.get(projectName) ?? [],
      );
      const live = quotaByProject.get(projectName);
      if (live && isSubset(desired, live)) return;
      await deps.client.apply(desired);
    };
    // Lower every share that shrinks before raising any that grows: the sum stays within the limit.
    for (const [projectName, shares] of allocation.phases[0]) await write(projectName, shares);
    for (const p of projects) await write(p.metadata.name, allocation.shares.get(p.metadata.name) ?? {});

    const used: Record<string, bigint> = {};
    for (const q of quotas) {
      for (const [r, v] of Object.entries(parseResourceList(q.status?.used)))
        if (limited.has(r)) used[r] = (used[r] ?? 0n) + v;
    }
    const deniedProjects = [...allocation.denied.keys()].sort();
    const status: TenantStatus = withoutEmptyCollections({
      observedGeneration: tenant.metadata.generation ?? 0,
      projects: projects.length,
      namespaces: projects.map((p) => projectNamespace(name, p.metadata.name)).sort(),
      quota: { allowed: toText(limits), allocated: toText(allocation.allocated), used: toText(used) },
      conditions: setCondition(
        tenant.status?.conditions,
        deniedProjects.length
          ? {
              type: 'Ready',
              status: 'True',
              reason: 'QuotaExhausted',
              message: `the tenant quota has no room for what ${deniedProjects.join(', ')} ask for`,
              observedGeneration: tenant.metadata.generation ?? 0,
            }
          : {
              type: 'Ready',
              status: 'True',
              reason: 'Reconciled',
              message: `${projects.length} project(s)`,
              observedGeneration: tenant.metadata.generation ?? 0,
            },
        now(),
      ),
    });
    const wasExhausted = tenant.status?.conditions?.some((c) => c.reason === 'QuotaExhausted');
    if (deniedProjects.length && !wasExhausted) {
      deps.events.record(
        tenant,
        'Warning',
        'QuotaExhausted',
        `the tenant quota has no room for what ${deniedProjects.join(', ')} ask for`,
      );
    }
    if (!(isSubset(status, tenant.status ?? {}) && isSubset(tenant.status ?? {}, status))) {
      await deps.client.applyStatus({
        apiVersion: tenant.apiVersion,
        kind: tenant.kind,
        metadata: { name },
        status,
      });
    }
    return;
  }
}
