import type { Queryable } from '../../db/database.ts';
import type { AppSpec } from '../../schemas/crds/app.ts';
import type { ProjectSpec } from '../../schemas/crds/project.ts';
import type { TenantSpec } from '../../schemas/crds/tenant.ts';
import { appCr, projectCr, tenantCr } from '../outbox/crs.ts';
import { enqueueEverywhere, enqueueOutbox } from '../outbox/store.ts';

/**
 * The outbox entries of tenancy changes: each applies (or deletes) one CR where it belongs. Called
 * inside the transaction of the change, so the entry commits with it or not at all.
 */

/** A Tenant exists on every registered cluster. */
export const applyTenantEverywhere = (tx: Queryable, name: string, spec: TenantSpec) =>
  enqueueEverywhere(tx, { kind: 'Tenant', name, operation: 'apply', payload: tenantCr(name, spec) });

/** A Tenant on one cluster (a project placed there for the first time needs it). */
export const applyTenant = (tx: Queryable, name: string, spec: TenantSpec, clusterId: string | null) =>
  enqueueOutbox(tx, { kind: 'Tenant', name, operation: 'apply', payload: tenantCr(name, spec), clusterId });

export const applyProject = (
  tx: Queryable,
  tenant: string,
  name: string,
  spec: Omit<ProjectSpec, 'tenantRef'>,
  clusterId: string | null,
) =>
  enqueueOutbox(tx, {
    kind: 'Project',
    name,
    operation: 'apply',
    payload: projectCr(tenant, name, spec),
    clusterId,
  });

/** An App's CR on its project's cluster (create and update alike). */
export const applyApp = (
  tx: Queryable,
  tenant: string,
  project: string,
  name: string,
  spec: AppSpec,
  clusterId: string | null,
) => {
  const cr = appCr(tenant, project, name, spec);
  return enqueueOutbox(tx, {
    kind: 'App',
    name,
    namespace: cr.metadata.namespace,
    operation: 'apply',
    payload: cr,
    clusterId,
  });
};
