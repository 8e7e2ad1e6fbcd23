import type { Queryable } from '../../db/database.ts';
import type { Role } from './principal.ts';

export interface TokenRow {
  id: string;
  name: string;
  role: Role;
  tenant: string | null;
  project: string | null;
  expiresAt: string | null;
  revokedAt: string | null;
  lastUsedAt: string | null;
  createdAt: string;
}

const ts = (col: string) => `to_char(${col} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')`;
const columns = `t.id, t.name, t.role, tn.name AS tenant, p.name AS project,
  ${ts('t.expires_at')} AS "expiresAt", ${ts('t.revoked_at')} AS "revokedAt",
  ${ts('t.last_used_at')} AS "lastUsedAt", ${ts('t.created_at')} AS "createdAt"`;
const from =
  'api_tokens t LEFT JOIN tenants tn ON tn.id = t.tenant_id LEFT JOIN projects p ON p.id = t.project_id';

export async function insertToken(
  q: Queryable,
  t: {
    name: string;
    hash: Buffer;
    role: Role;
    tenantId?: string | null;
    projectId?: string | null;
    expiresAt?: string | null;
    createdBy?: string | null;
  },
): Promise<TokenRow> {
  const { rows } = await q.query<{ id: string }>(
    `INSERT INTO api_tokens (name, token_hash, role, tenant_id, project_id, expires_at, created_by)
     VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`,
    [
      t.name,
      t.hash,
      t.role,
      t.tenantId ?? null,
      t.projectId ?? null,
      t.expiresAt ?? null,
      t.createdBy ?? null,
    ],
  );
  return (await getToken(q, rows[0]!.id))!;
}

export async function getToken(q: Queryable, id: string): Promise<TokenRow | undefined> {
  const { rows } = await q.query<TokenRow>(`SELECT ${columns} FROM ${from} WHERE t.id = $1`, [id]);
  return rows[0];
}

/** The live token with this hash: not revoked, not expired. Marks it used (at most once a minute). */
export async function findActiveToken(q: Queryable, hash: Buffer): Promise<TokenRow | undefined> {
  const { rows } = await q.query<TokenRow>(
    `SELECT ${columns} FROM ${from}
     WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > now())`,
    [hash],
  );
  const row = rows[0];
  if (row) {
    await q.query(
      `UPDATE api_tokens SET last_used_at = now() WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')`,
      [row.id],
    );
  }
  return row;
}

export async function listTokens(
  q: Queryable,
  scope: { tenantId?: string; projectId?: string },
): Promise<TokenRow[]> {
  const where: string[] = [];
  const params: unknown[] = [];
  if (scope.tenantId) {
    params.push(scope.tenantId);
    where.push(`t.tenant_id = $${params.length}`);
  }
  if (scope.projectId) {
    params.push(scope.projectId);
    where.push(`t.project_id = $${params.length}`);
  }
  const { rows } = await q.query<TokenRow>(
    `SELECT ${columns} FROM ${from}${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY t.created_at, t.id`,
    params,
  );
  return rows;
}

export async function revokeToken(q: Queryable, id: string): Promise<void> {
  await q.query('UPDATE api_tokens SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL', [id]);
}

export async function countPlatformAdmins(q: Queryable): Promise<number> {
  const { rows } = await q.query<{ n: number }>(
    "SELECT count(*)::int AS n FROM api_tokens WHERE role = 'platform-admin' AND revoked_at IS NULL",
  );
  return rows[0]?.n ?? 0;
}
