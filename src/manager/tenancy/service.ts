import type { Database, Queryable } from '../../db/database.ts';
import type { AppSpec } from '../../schemas/crds/app.ts';
import type { ProjectSpec } from '../../schemas/crds/project.ts';
import type { TenantSpec } from '../../schemas/crds/tenant.ts';
import { authorize } from '../access/authorize.ts';
import { confinement, decide, listTarget, type ActionName } from '../access/policy.ts';
import type { Principal } from '../access/principal.ts';
import { appCr, projectCr, tenantCr } from '../outbox/crs.ts';
import {
  alreadyExists,
  conflict,
  isUniqueViolation,
  notFound,
  preconditionFailed,
  badRequest,
} from '../http/errors.ts';
import { auditSuccess } from '../access/audit-store.ts';
import { defaultPlacement } from '../clusters/store.ts';
import { enqueueEverywhere, enqueueOutbox } from '../outbox/store.ts';
import { resourceStore, type ResourceRow } from './store.ts';

export type ProjectBody = Omit<ProjectSpec, 'tenantRef'>;

const tenants = resourceStore<TenantSpec>('tenants');
const projects = resourceStore<ProjectBody>('projects');
const apps = resourceStore<AppSpec>('apps');

export interface Call {
  principal: Principal;
  requestId: string;
}

export interface Listed<T> {
  items: T[];
  nextCursor?: string;
}

const encodeCursor = (name: string) => Buffer.from(name).toString('base64url');
const decodeCursor = (cursor: string | undefined) =>
  cursor ? Buffer.from(cursor, 'base64url').toString() : undefined;

function page<T>(rows: T[], limit: number, nameOf: (r: T) => string): Listed<T> {
  if (rows.length <= limit) return { items: rows };
  const items = rows.slice(0, limit);
  return { items, nextCursor: encodeCursor(nameOf(items.at(-1)!)) };
}

/**
 * The manager's operations on tenants, projects and apps. Every change commits in one transaction
 * with its audit entry and the outbox entry that delivers it to the cluster, so a change is never
 * stored without being delivered, nor delivered without being stored.
 */
export function managerService(db: Database) {
  async function tenantOrThrow(
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

  async function projectOrThrow(q: Queryable, call: Call, tenant: string, name: string, action: ActionName) {
    authorize(call, action, { tenant, project: name }, () => notFound('project', name));
    const t = await tenants.get(q, tenant);
    const row = t ? await projects.get(q, name, t.id) : undefined;
    if (!t || !row) throw notFound('project', name);
    return { tenant: t, project: row };
  }

  /** The cluster a new project goes to: the one named, else the default (or only) one, else none yet. */
  async function placement(q: Queryable, cluster: string | undefined): Promise<string | null> {
    if (cluster) {
      const { rows } = await q.query<{ id: string }>('SELECT id FROM clusters WHERE name = $1', [cluster]);
      if (!rows[0]) throw notFound('cluster', cluster);
      return rows[0].id;
    }
    const placed = await defaultPlacement(q);
    if (placed === 'ambiguous')
      throw badRequest(
        'CLUSTER_REQUIRED',
        'several clusters are registered and none is the default; name one in "cluster"',
      );
    return placed;
  }

  /** The outbox entry that applies an App's CR on its project's cluster (create and update alike). */
  const queueAppApply = (
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

  const checkVersion = (row: ResourceRow, ifMatch: number | undefined, kind: string) => {
    if (ifMatch !== undefined && row.version !== ifMatch) throw preconditionFailed(kind, row.name);
  };

  return {
    // ---- tenants
    async listTenants(call: Call, opts: { limit: number; cursor?: string }) {
      const p = call.principal;
      authorize(call, 'tenant.list');
      const own = confinement(p).tenant;
      if (own !== undefined) {
        const row = await tenants.get(db, own);
        const visible = row && decide(p, 'tenant.read', { tenant: row.name }) === 'allow' ? [row] : [];
        return page(visible, opts.limit, (r) => r.name);
      }
      return page(
        await tenants.list(db, { after: decodeCursor(opts.cursor), limit: opts.limit }),
        opts.limit,
        (r) => r.name,
      );
    },

    getTenant: (call: Call, name: string) => tenantOrThrow(db, call, name, 'tenant.read'),

    async createTenant(call: Call, name: string, spec: TenantSpec) {
      authorize(call, 'tenant.create');
      try {
        return await db.transaction(async (tx) => {
          const row = await tenants.insert(tx, name, spec);
          await auditSuccess(tx, call, 'create', 'tenant', name, row.id);
          await enqueueEverywhere(tx, {
            kind: 'Tenant',
            name,
            operation: 'apply',
            payload: tenantCr(name, spec),
          });
          return row;
        });
      } catch (err) {
        if (isUniqueViolation(err)) throw alreadyExists('tenant', name);
        throw err;
      }
    },

    async updateTenant(call: Call, name: string, spec: TenantSpec, ifMatch?: number) {
      return db.transaction(async (tx) => {
        // Read first, so a tenant-admin of a tenant that is gone gets 404 as before, not 403.
        const row = await tenantOrThrow(tx, call, name, 'tenant.read');
        authorize(call, 'tenant.update', { tenant: name }, () => notFound('tenant', name));
        checkVersion(row, ifMatch, 'tenant');
        const updated = await tenants.updateSpec(tx, row.id, spec, row.version);
        if (!updated) throw preconditionFailed('tenant', name);
        await auditSuccess(tx, call, 'update', 'tenant', name, row.id);
        await enqueueEverywhere(tx, {
          kind: 'Tenant',
          name,
          operation: 'apply',
          payload: tenantCr(name, spec),
        });
        return updated;
      });
    },

    async deleteTenant(call: Call, name: string, ifMatch?: number) {
      await db.transaction(async (tx) => {
        const row = await tenantOrThrow(tx, call, name, 'tenant.read');
        authorize(call, 'tenant.delete', { tenant: name }, () => notFound('tenant', name));
        checkVersion(row, ifMatch, 'tenant');
        const children = await tenants.countChildren(tx, row.id, 'projects');
        if (children > 0)
          throw conflict(
            'TENANT_NOT_EMPTY',
            `tenant "${name}" still has ${children} project(s); delete them first`,
          );
        await tx.query('DELETE FROM api_tokens WHERE tenant_id = $1', [row.id]);
        await tenants.remove(tx, row.id);
        await auditSuccess(tx, call, 'delete', 'tenant', name, row.id);
        await enqueueEverywhere(tx, { kind: 'Tenant', name, operation: 'delete' });
      });
    },

    // ---- projects
    async listProjects(call: Call, tenant: string, opts: { limit: number; cursor?: string }) {
      const p = call.principal;
      authorize(call, 'project.list', listTarget(p, tenant), () => notFound('tenant', tenant));
      const t = await tenants.get(db, tenant);
      if (!t) throw notFound('tenant', tenant);
      const rows = await projects.list(db, {
        parentIds: [t.id],
        after: decodeCursor(opts.cursor),
        limit: opts.limit,
      });
      const visible = rows.filter((r) => decide(p, 'project.read', { tenant, project: r.name }) === 'allow');
      return page(visible, opts.limit, (r) => r.name);
    },

    async getProject(call: Call, tenant: string, name: string) {
      return (await projectOrThrow(db, call, tenant, name, 'project.read')).project;
    },

    /** `cluster` names where the project goes; by default the default cluster (or the only one). */
    async createProject(call: Call, tenant: string, name: string, spec: ProjectBody, cluster?: string) {
      try {
        return await db.transaction(async (tx) => {
          const t = await tenantOrThrow(tx, call, tenant, 'project.create');
          const clusterId = await placement(tx, cluster);
          const inserted = await projects.insert(tx, name, spec, t.id);
          if (clusterId) {
            await tx.query('UPDATE projects SET cluster_id = $2 WHERE id = $1', [inserted.id, clusterId]);
            // The cluster may not have the tenant yet (placed there for the first time).
            await enqueueOutbox(tx, {
              kind: 'Tenant',
              name: tenant,
              operation: 'apply',
              payload: tenantCr(tenant, t.spec),
              clusterId,
            });
          }
          await auditSuccess(tx, call, 'create', 'project', name, t.id);
          await enqueueOutbox(tx, {
            kind: 'Project',
            name,
            operation: 'apply',
            payload: projectCr(tenant, name, spec),
            clusterId,
          });
          return (await projects.getById(tx, inserted.id))!;
        });
      } catch (err) {
        if (isUniqueViolation(err)) throw alreadyExists('project', name);
        throw err;
      }
    },

    async updateProject(call: Call, tenant: string, name: string, spec: ProjectBody, ifMatch?: number) {
      return db.transaction(async (tx) => {
        const { tenant: t, project } = await projectOrThrow(tx, call, tenant, name, 'project.update');
        checkVersion(project, ifMatch, 'project');
        const updated = await projects.updateSpec(tx, project.id, spec, project.version);
        if (!updated) throw preconditionFailed('project', name);
        await auditSuccess(tx, call, 'update', 'project', name, t.id);
        await enqueueOutbox(tx, {
          kind: 'Project',
          name,
          operation: 'apply',
          payload: projectCr(tenant, name, spec),
          clusterId: project.clusterId ?? null,
        });
        return updated;
      });
    },

    async deleteProject(call: Call, tenant: string, name: string, ifMatch?: number) {
      await db.transaction(async (tx) => {
        const { tenant: t, project } = await projectOrThrow(tx, call, tenant, name, 'project.delete');
        checkVersion(project, ifMatch, 'project');
        // The project's namespace goes with it in the cluster, apps included.
        await tx.query('DELETE FROM apps WHERE project_id = $1', [project.id]);
        await tx.query('DELETE FROM api_tokens WHERE project_id = $1', [project.id]);
        await projects.remove(tx, project.id);
        await auditSuccess(tx, call, 'delete', 'project', name, t.id);
        await enqueueOutbox(tx, {
          kind: 'Project',
          name,
          operation: 'delete',
          clusterId: project.clusterId ?? null,
        });
      });
    },

    // ---- apps
    async listApps(call: Call, tenant: string, project: string, opts: { limit: number; cursor?: string }) {
      const { project: p } = await projectOrThrow(db, call, tenant, project, 'app.read');
      const rows = await apps.list(db, {
        parentIds: [p.id],
        after: decodeCursor(opts.cursor),
        limit: opts.limit,
      });
      return page(rows, opts.limit, (r) => r.name);
    },

    async getApp(call: Call, tenant: string, project: string, name: string) {
      const { project: p } = await projectOrThrow(db, call, tenant, project, 'app.read');
      const row = await apps.get(db, name, p.id);
      if (!row) throw notFound('app', name);
      return row;
    },

    async createApp(call: Call, tenant: string, project: string, name: string, spec: AppSpec) {
      try {
        return await db.transaction(async (tx) => {
          const { tenant: t, project: p } = await projectOrThrow(tx, call, tenant, project, 'app.write');
          const row = await apps.insert(tx, name, spec, p.id);
          await auditSuccess(tx, call, 'create', 'app', `${project}/${name}`, t.id);
          await queueAppApply(tx, tenant, project, name, spec, p.clusterId ?? null);
          return row;
        });
      } catch (err) {
        if (isUniqueViolation(err)) throw alreadyExists('app', name);
        throw err;
      }
    },

    async updateApp(
      call: Call,
      tenant: string,
      project: string,
      name: string,
      spec: AppSpec,
      ifMatch?: number,
    ) {
      return db.transaction(async (tx) => {
        const { tenant: t, project: p } = await projectOrThrow(tx, call, tenant, project, 'app.write');
        const row = await apps.get(tx, name, p.id);
        if (!row) throw notFound('app', name);
        checkVersion(row, ifMatch, 'app');
        const updated = await apps.updateSpec(tx, row.id, spec, row.version);
        if (!updated) throw preconditionFailed('app', name);
        await auditSuccess(tx, call, 'update', 'app', `${project}/${name}`, t.id);
        await queueAppApply(tx, tenant, project, name, spec, p.clusterId ?? null);
        return updated;
      });
    },

    async deleteApp(call: Call, tenant: string, project: string, name: string, ifMatch?: number) {
      await db.transaction(async (tx) => {
        const { tenant: t, project: p } = await projectOrThrow(tx, call, tenant, project, 'app.write');
        const row = await apps.get(tx, name, p.id);
        if (!row) throw notFound('app', name);
        checkVersion(row, ifMatch, 'app');
        await apps.remove(tx, row.id);
        await auditSuccess(tx, call, 'delete', 'app', `${project}/${name}`, t.id);
        await enqueueOutbox(tx, {
          kind: 'App',
          name,
          namespace: appCr(tenant, project, name, row.spec).metadata.namespace,
          operation: 'delete',
          clusterId: p.clusterId ?? null,
        });
      });
    },

    /** Ids a token scope refers to, for token creation. */
    async scopeIds(tenant?: string, project?: string): Promise<{ tenantId?: string; projectId?: string }> {
      const t = tenant ? await tenants.get(db, tenant) : undefined;
      if (tenant && !t) throw notFound('tenant', tenant);
      const p = project && t ? await projects.get(db, project, t.id) : undefined;
      if (project && !p) throw notFound('project', project);
      return { ...(t ? { tenantId: t.id } : {}), ...(p ? { projectId: p.id } : {}) };
    },
  };
}

export type ManagerService = ReturnType<typeof managerService>;
