/**
 * The tenancy stores and the lookups every tenancy service starts with: each authorizes through the
 * policy before it reads, so a refusal and a missing object look alike to the caller.
 */
import type { Queryable } from '../../db/database.ts';
import type { AppSpec } from '../../schemas/crds/app.ts';
import type { TenantSpec } from '../../schemas/crds/tenant.ts';
import { authorize } from '../access/authorize.ts';
import type { ActionName } from '../access/policy.ts';
import { notFound, preconditionFailed } from '../http/errors.ts';
import { resourceStore, type ResourceRow } from './store.ts';
import type { Call, Listed, ProjectBody } from './service.ts';

export const tenants = resourceStore<TenantSpec>('tenants');
export const projects = resourceStore<ProjectBody>('projects');
export const apps = resourceStore<AppSpec>('apps');

const encodeCursor = (name: string) => Buffer.from(name).toString('base64url');
export const decodeCursor = (cursor: string | undefined) =>
  cursor ? Buffer.from(cursor, 'base64url').toString() : undefined;

/** One page of a list ordered by name, with the cursor of the next page when there is one. */
export function page<T>(rows: T[], limit: number, nameOf: (r: T) => string): Listed<T> {
  if (rows.length <= limit) return { items: rows };
  const items = rows.slice(0, limit);
  return { items, nextCursor: encodeCursor(nameOf(items.at(-1)!)) };
}

/** The tenant, once the policy allows `action` on it; 404 when it is missing or hidden from the caller. */
export async function tenantOrThrow(
  q: Queryable,
  call: Call,
  name: string,
  action: ActionName,
): Promise<ResourceRow<TenantSpec>> {
  authorize(call, action, { tenant: name }, () => notFound('tenant', name));
  const row = await tenants.get(q, name);
  if (!row) throw notFound('tenant', name);
  return row;
}

/** The tenant and the project, once the policy allows `action` on the project (404 otherwise). */
export async function projectOrThrow(
  q: Queryable,
  call: Call,
  tenant: string,
  name: string,
  action: ActionName,
) {
  authorize(call, action, { tenant, project: name }, () => notFound('project', name));
  const t = await tenants.get(q, tenant);
  const row = t ? await projects.get(q, name, t.id) : undefined;
  if (!t || !row) throw notFound('project', name);
  return { tenant: t, project: row };
}

/** 412 when the caller's If-Match names another version. */
export const checkVersion = (row: ResourceRow, ifMatch: number | undefined, kind: string) => {
  if (ifMatch !== undefined && row.version !== ifMatch) throw preconditionFailed(kind, row.name);
};
