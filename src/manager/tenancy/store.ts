import type { Queryable } from '../../db/database.ts';

/** A stored resource (tenant, project or app): its spec as in the CRD, and the status read back. */
export interface ResourceRow<S = unknown> {
  id: string;
  name: string;
  parentId: string | null;
  spec: S;
  status: unknown;
  version: number;
  createdAt: string;
  updatedAt: string;
  /** Projects only: the cluster the project is placed on (null while unplaced). */
  clusterId?: string | null;
  cluster?: string | null;
}

export type ResourceTable = 'tenants' | 'projects' | 'apps';

const parentColumn: Record<ResourceTable, string | null> = {
  tenants: null,
  projects: 'tenant_id',
  apps: 'project_id',
};

function select(table: ResourceTable): string {
  const parent = parentColumn[table];
  const placement =
    table === 'projects'
      ? `cluster_id AS "clusterId", (SELECT c.name FROM clusters c WHERE c.id = projects.cluster_id) AS cluster, `
      : '';
  return `SELECT id, name, ${parent ?? 'NULL'} AS "parentId", spec, status, version, ${placement}
    to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS "createdAt",
    to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS "updatedAt"
    FROM ${table}`;
}

/**
 * SQL for the three resource tables. Names are unique per parent (globally for tenants and
 * projects, whose custom resources are cluster-scoped). Every write bumps `version`, the ETag.
 */
export function resourceStore<S>(table: ResourceTable) {
  const parent = parentColumn[table];
  const byParent = parent ? ` AND ${parent} = $2` : '';
  return {
    async get(q: Queryable, name: string, parentId?: string): Promise<ResourceRow<S> | undefined> {
      const { rows } = await q.query<ResourceRow<S>>(
        `${select(table)} WHERE name = $1${byParent}`,
        parent ? [name, parentId] : [name],
      );
      return rows[0];
    },

    /** A page ordered by name, starting after `after`; `limit + 1` rows tell whether more follow. */
    async list(
      q: Queryable,
      opts: { parentIds?: string[]; after?: string; limit: number },
    ): Promise<ResourceRow<S>[]> {
      const where: string[] = [];
      const params: unknown[] = [];
      if (parent && opts.parentIds) {
        params.push(opts.parentIds);
        where.push(`${parent} = ANY($${params.length}::uuid[])`);
      }
      if (opts.after !== undefined) {
        params.push(opts.after);
        where.push(`name > $${params.length}`);
      }
      params.push(opts.limit + 1);
      const { rows } = await q.query<ResourceRow<S>>(
        `${select(table)}${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY name LIMIT $${params.length}`,
        params,
      );
      return rows;
    },

    async insert(q: Queryable, name: string, spec: S, parentId?: string): Promise<ResourceRow<S>> {
      const cols = parent ? `name, spec, ${parent}` : 'name, spec';
      const vals = parent ? '$1, $2, $3' : '$1, $2';
      const { rows } = await q.query<{ id: string }>(
        `INSERT INTO ${table} (${cols}) VALUES (${vals}) RETURNING id`,
        parent ? [name, spec, parentId] : [name, spec],
      );
      return (await this.getById(q, rows[0]!.id))!;
    },

    async getById(q: Queryable, id: string): Promise<ResourceRow<S> | undefined> {
      const { rows } = await q.query<ResourceRow<S>>(`${select(table)} WHERE id = $1`, [id]);
      return rows[0];
    },

    /** Replaces the spec if the row is still at `ifVersion` (when given); undefined when it was not. */
    async updateSpec(
      q: Queryable,
      id: string,
      spec: S,
      ifVersion?: number,
    ): Promise<ResourceRow<S> | undefined> {
      const { rowCount } = await q.query(
        `UPDATE ${table} SET spec = $2, version = version + 1, updated_at = now() WHERE id = $1${ifVersion !== undefined ? ' AND version = $3' : ''}`,
        ifVersion !== undefined ? [id, spec, ifVersion] : [id, spec],
      );
      return rowCount ? this.getById(q, id) : undefined;
    },

    async remove(q: Queryable, id: string): Promise<void> {
      await q.query(`DELETE FROM ${table} WHERE id = $1`, [id]);
    },

    async countChildren(q: Queryable, id: string, childTable: ResourceTable): Promise<number> {
      const column = parentColumn[childTable];
      const { rows } = await q.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM ${childTable} WHERE ${column} = $1`,
        [id],
      );
      return rows[0]?.n ?? 0;
    },
  };
}
