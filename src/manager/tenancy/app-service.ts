import type { Database } from '../../db/database.ts';
import { appCr } from '../outbox/crs.ts';
import type { AppSpec } from '../../schemas/crds/app.ts';
import { alreadyExists, isUniqueViolation, notFound, preconditionFailed } from '../http/errors.ts';
import { auditSuccess } from '../access/audit-store.ts';
import { enqueueOutbox } from '../outbox/store.ts';
import { applyApp } from './cr-changes.ts';
import { apps, checkVersion, decodeCursor, page, projectOrThrow } from './lookup.ts';
import type { Call } from './service.ts';

/** A project's apps: each change commits with its audit entry and the outbox entry for the project's cluster. */
export function appService(db: Database) {
  return {
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
          await applyApp(tx, tenant, project, name, spec, p.clusterId ?? null);
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
        await applyApp(tx, tenant, project, name, spec, p.clusterId ?? null);
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
  };
}
