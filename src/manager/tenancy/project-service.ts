import type { Database, Queryable } from '../../db/database.ts';
import { authorize } from '../access/authorize.ts';
import { decide, listTarget } from '../access/policy.ts';
import {
  alreadyExists,
  badRequest,
  isUniqueViolation,
  notFound,
  preconditionFailed,
} from '../http/errors.ts';
import { auditSuccess } from '../access/audit-store.ts';
import { defaultPlacement } from '../clusters/store.ts';
import { enqueueOutbox } from '../outbox/store.ts';
import { applyProject, applyTenant } from './cr-changes.ts';
import {
  checkVersion,
  decodeCursor,
  page,
  projectOrThrow,
  projects,
  tenantOrThrow,
  tenants,
} from './lookup.ts';
import type { Call, ProjectBody } from './service.ts';

/** A tenant's projects: each change commits with its audit entry and the outbox entry for the project's cluster. */
export function projectService(db: Database) {
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

  return {
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
            await applyTenant(tx, tenant, t.spec, clusterId);
          }
          await auditSuccess(tx, call, 'create', 'project', name, t.id);
          await applyProject(tx, tenant, name, spec, clusterId);
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
        await applyProject(tx, tenant, name, spec, project.clusterId ?? null);
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
  };
}
