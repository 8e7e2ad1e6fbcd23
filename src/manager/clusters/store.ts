import type { Queryable } from '../../db/database.ts';

/**
 * A registered cluster. `sealedKubeconfig` is the KMS envelope (never plaintext), or null for the
 * cluster whose kubeconfig comes from each manager's own configuration. It never leaves the store
 * except towards the cluster-access module that opens it.
 */
export interface ClusterRow {
  id: string;
  name: string;
  server: string;
  sealedKubeconfig: string | null;
  isDefault: boolean;
  labels: Record<string, string>;
  serverVersion: string | null;
  checkedAt: string | null;
  checkError: string | null;
  version: number;
  createdAt: string;
  updatedAt: string;
  projects: number;
  laneHolder: string | null;
  laneRenewedAt: string | null;
}

const ts = (col: string) => `to_char(${col} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')`;
const select = `SELECT c.id, c.name, c.server, c.kubeconfig AS "sealedKubeconfig", c.is_default AS "isDefault",
    c.labels, c.server_version AS "serverVersion", ${ts('c.checked_at')} AS "checkedAt",
    c.check_error AS "checkError", c.version, ${ts('c.created_at')} AS "createdAt",
    ${ts('c.updated_at')} AS "updatedAt",
    (SELECT count(*)::int FROM projects p WHERE p.cluster_id = c.id) AS projects,
    l.holder AS "laneHolder", ${ts('l.renewed_at')} AS "laneRenewedAt"
  FROM clusters c LEFT JOIN cluster_leases l ON l.cluster_id = c.id AND l.expires_at > now()`;

export async function getCluster(q: Queryable, name: string): Promise<ClusterRow | undefined> {
  const { rows } = await q.query<ClusterRow>(`${select} WHERE c.name = $1`, [name]);
  return rows[0];
}

export async function getClusterById(q: Queryable, id: string): Promise<ClusterRow | undefined> {
  const { rows } = await q.query<ClusterRow>(`${select} WHERE c.id = $1`, [id]);
  return rows[0];
}

/** A page by name after `after`; `limit + 1` rows tell whether more follow. */
export async function listClusters(
  q: Queryable,
  opts: { after?: string; limit: number },
): Promise<ClusterRow[]> {
  const { rows } = await q.query<ClusterRow>(
    `${select}${opts.after !== undefined ? ' WHERE c.name > $2' : ''} ORDER BY c.name LIMIT $1`,
    opts.after !== undefined ? [opts.limit + 1, opts.after] : [opts.limit + 1],
  );
  return rows;
}

export async function insertCluster(
  q: Queryable,
  c: Pick<ClusterRow, 'id' | 'name' | 'server' | 'sealedKubeconfig' | 'isDefault' | 'labels'> & {
    serverVersion?: string | null;
    checked?: boolean;
  },
): Promise<void> {
  await q.query(
    `INSERT INTO clusters (id, name, server, kubeconfig, is_default, labels, server_version, checked_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, CASE WHEN $8::boolean THEN now() END)`,
    [
      c.id,
      c.name,
      c.server,
      c.sealedKubeconfig,
      c.isDefault,
      c.labels,
      c.serverVersion ?? null,
      c.checked ?? false,
    ],
  );
}

export async function recordCheck(
  q: Queryable,
  id: string,
  result: { serverVersion?: string; error?: string },
): Promise<void> {
  await q.query(
    `UPDATE clusters SET checked_at = now(), server_version = COALESCE($2, server_version), check_error = $3
     WHERE id = $1`,
    [id, result.serverVersion ?? null, result.error ?? null],
  );
}

export async function hasDefaultCluster(q: Queryable): Promise<boolean> {
  const { rows } = await q.query('SELECT 1 FROM clusters WHERE is_default');
  return rows.length > 0;
}

/**
 * Where a new project goes when the request names no cluster: the default cluster, else the only
 * one; `null` when no cluster is registered yet (the project waits, unplaced); `'ambiguous'` when
 * several are and none is the default.
 */
export async function defaultPlacement(q: Queryable): Promise<string | null | 'ambiguous'> {
  const { rows } = await q.query<{ id: string; is_default: boolean }>(
    'SELECT id, is_default FROM clusters ORDER BY is_default DESC, name LIMIT 2',
  );
  if (rows.length === 0) return null;
  if (rows[0]!.is_default || rows.length === 1) return rows[0]!.id;
  return 'ambiguous';
}

/**
 * Makes `clusterId` the home of everything waiting for a cluster: unplaced projects and the outbox
 * entries written while no cluster existed. Called when a cluster becomes the default.
 */
export async function adoptUnplaced(q: Queryable, clusterId: string): Promise<void> {
  await q.query('UPDATE projects SET cluster_id = $1 WHERE cluster_id IS NULL', [clusterId]);
  await q.query('UPDATE outbox SET cluster_id = $1 WHERE cluster_id IS NULL', [clusterId]);
}

/**
 * Removes a cluster. With projects still placed on it only when `force`: they become unplaced and
 * the cluster's outbox entries (sent or not) are dropped, since there is nowhere left to send them.
 */
export async function removeCluster(q: Queryable, id: string): Promise<void> {
  await q.query('UPDATE projects SET cluster_id = NULL WHERE cluster_id = $1', [id]);
  await q.query('DELETE FROM outbox WHERE cluster_id = $1', [id]);
  await q.query('DELETE FROM clusters WHERE id = $1', [id]);
}
