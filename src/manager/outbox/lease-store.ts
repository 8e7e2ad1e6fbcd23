import type { Queryable } from '../../db/database.ts';

/**
 * Lane leases: one row per cluster naming the manager replica that delivers to it and until when.
 * Times are the database's (`now()`), so replicas with skewed clocks still agree.
 */

/**
 * Takes or renews the lease of `clusterId` for `holder`, for `ttlMs`. Succeeds when the lease is
 * free, expired or already ours; returns the previous holder when it was taken over from another.
 */
export async function acquireLease(
  q: Queryable,
  clusterId: string,
  holder: string,
  ttlMs: number,
): Promise<{ acquired: boolean; previous?: string }> {
  const { rows } = await q.query<{ previous: string | null }>(
    `WITH before AS (SELECT holder FROM cluster_leases WHERE cluster_id = $1)
     INSERT INTO cluster_leases (cluster_id, holder, acquired_at, renewed_at, expires_at)
     VALUES ($1, $2, now(), now(), now() + $3 * interval '1 millisecond')
     ON CONFLICT (cluster_id) DO UPDATE SET
       holder = EXCLUDED.holder,
       acquired_at = CASE WHEN cluster_leases.holder = EXCLUDED.holder
                          THEN cluster_leases.acquired_at ELSE now() END,
       renewed_at = now(),
       expires_at = EXCLUDED.expires_at
     WHERE cluster_leases.holder = EXCLUDED.holder OR cluster_leases.expires_at < now()
     RETURNING (SELECT holder FROM before) AS previous`,
    [clusterId, holder, ttlMs],
  );
  const row = rows[0];
  if (!row) return { acquired: false };
  return row.previous && row.previous !== holder
    ? { acquired: true, previous: row.previous }
    : { acquired: true };
}

/** Gives up every lease of `holder` (on shutdown), so another replica takes over at once. */
export async function releaseLeases(q: Queryable, holder: string): Promise<void> {
  await q.query('DELETE FROM cluster_leases WHERE holder = $1', [holder]);
}

export async function releaseLease(q: Queryable, clusterId: string, holder: string): Promise<void> {
  await q.query('DELETE FROM cluster_leases WHERE cluster_id = $1 AND holder = $2', [clusterId, holder]);
}
