import type { Database } from '../../db/database.ts';
import type { TenantSpec } from '../../schemas/crds/tenant.ts';
import { authorize } from '../access/authorize.ts';
import { confinement, decide } from '../access/policy.ts';
import { alreadyExists, conflict, isUniqueViolation, notFound, preconditionFailed } from '../http/errors.ts';
import { auditSuccess } from '../access/audit-store.ts';
import { enqueueEverywhere } from '../outbox/store.ts';
import { applyTenantEverywhere } from './cr-changes.ts';
import { checkVersion, decodeCursor, page, tenantOrThrow, tenants } from './lookup.ts';
import type { Call } from './service.ts';

/** Tenants: each change commits with its audit entry and the outbox entries that apply it on every cluster. */
export function tenantService(db: Database) {
  return {
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
          await applyTenantEverywhere(tx, name, spec);
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
        await applyTenantEverywhere(tx, name, spec);
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
  };
}
