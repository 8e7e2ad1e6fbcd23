import { LABEL_TENANT } from '../../../domain/naming.ts';
import type { Project, Tenant } from '../../../schemas/crds/types.ts';
import { ControllerBuilder, type ControllerDeclaration } from '../../runtime/builder.ts';
import type { ControllerDeps } from '../deps.ts';
import { type ComputeQuota, DEFAULT_PROJECT_COMPUTE_QUOTA } from '../../../domain/quota.ts';
import {
  byTenant,
  INDEX_TENANT,
  labelOf,
  MANAGED_NAMESPACES,
  MANAGED_QUOTAS,
  PROJECTS,
  TENANTS,
} from '../store.ts';
import { tenantReconciler } from './controller.ts';

/**
 * The Tenant controller and what it watches: its Projects (their quota requests and count), and the
 * namespaces and ResourceQuotas of its projects (labelled with the tenant), whose usage it reports.
 */
export function tenantController(
  deps: ControllerDeps,
  computeQuota: ComputeQuota = DEFAULT_PROJECT_COMPUTE_QUOTA,
): ControllerDeclaration {
  const tenants = deps.informer<Tenant>(TENANTS);
  const projects = deps.informer<Project>(PROJECTS);
  projects.addIndex(INDEX_TENANT, byTenant);
  const namespaces = deps.informer(MANAGED_NAMESPACES);
  const quotas = deps.informer(MANAGED_QUOTAS);
  return ControllerBuilder.for('tenant', tenants)
    .watches(projects, byTenant)
    .owns(namespaces, (ns) => labelOf(ns, LABEL_TENANT))
    .owns(quotas, (q) => labelOf(q, LABEL_TENANT))
    .complete(
      tenantReconciler({
        client: deps.client,
        tenants,
        projects,
        namespaces,
        events: deps.events,
        logger: deps.logger.child({ controller: 'tenant' }),
        computeQuota,
      }),
    );
}
