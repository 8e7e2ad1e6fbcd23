import type { Queryable } from '../../db/database.ts';

export interface AuditEntry {
  actor: string;
  action: string;
  resourceType: string;
  resourceName: string;
  tenantId?: string | null;
  requestId?: string;
  outcome: 'success' | 'denied' | 'failed';
  detail?: Record<string, unknown>;
}

export interface AuditRecord {
  id: string;
  at: string;
  actor: string;
  action: string;
  resourceType: string;
  resourceName: string;
  tenantId: string | null;
  requestId: string | null;
  outcome: string;
  detail: Record<string, unknown> | null;
}

/** Appends one entry. Called inside the mutation's transaction, so a change and its entry commit together. */
export async function appendAudit(q: Queryable, e: AuditEntry): Promise<void> {
  await q.query(
    `INSERT INTO audit_log (actor, action, resource_type, resource_name, tenant_id, request_id, outcome, detail)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
    [
      e.actor,
      e.action,
      e.resourceType,
      e.resourceName,
      e.tenantId ?? null,
      e.requestId ?? null,
      e.outcome,
      e.detail ?? null,
    ],
  );
}

/** Who made a change: the principal's actor and the request it came in on. */
export interface AuditCaller {
  principal: { actor: string };
  requestId: string;
}

/** Appends the entry of a successful change made by `call`. */
export function auditSuccess(
  q: Queryable,
  call: AuditCaller,
  action: string,
  resourceType: string,
  resourceName: string,
  tenantId: string | null,
  detail?: Record<string, unknown>,
): Promise<void> {
  return appendAudit(q, {
    actor: call.principal.actor,
    action,
    resourceType,
    resourceName,
    tenantId,
    requestId: call.requestId,
    outcome: 'success',
    ...(detail ? { detail } : {}),
  });
}

/** Newest first; `before` is the id of the last entry of the previous page. */
export async function listAudit(
  q: Queryable,
  opts: { tenantId?: string; before?: string; limit: number; resourceType?: string; actor?: string },
): Promise<AuditRecord[]> {
  const where: string[] = [];
  const params: unknown[] = [];
  const add = (sql: string, value: unknown) => {
    params.push(value);
    where.push(sql.replace('?', `$${params.length}`));
  };
  if (opts.tenantId) add('tenant_id = ?', opts.tenantId);
  if (opts.before) add('id < ?', opts.before);
  if (opts.resourceType) add('resource_type = ?', opts.resourceType);
  if (opts.actor) add('actor = ?', opts.actor);
  params.push(opts.limit + 1);
  const { rows } = await q.query<AuditRecord>(
    `SELECT id::text AS id, to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS at, actor, action,
       resource_type AS "resourceType", resource_name AS "resourceName", tenant_id AS "tenantId",
       request_id AS "requestId", outcome, detail
     FROM audit_log${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY audit_log.id DESC LIMIT $${params.length}`,
    params,
  );
  return rows;
}
