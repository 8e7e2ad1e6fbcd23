import { createHash } from 'node:crypto';
import type { Database } from '../../db/database.ts';
import { ApiError } from '../../platform/problem.ts';

/**
 * Idempotency-Key on POST: the first response for (token, key) is stored; a retry with the same key
 * and the same body gets that response again instead of a second resource; the same key with another
 * body is refused. Keys are scoped per token, so two callers can never see each other's responses.
 */
export async function replayOrRun(
  db: Database,
  scope: { tokenId: string | undefined; key: string | undefined; body: unknown; route: string },
  run: () => Promise<{ status: number; body: unknown }>,
): Promise<{ status: number; body: unknown; replayed: boolean }> {
  if (!scope.key || !scope.tokenId) return { ...(await run()), replayed: false };
  if (scope.key.length > 255)
    throw new ApiError(
      400,
      'KUBEOP_ERR_IDEMPOTENCY_KEY_INVALID',
      'Idempotency-Key must be at most 255 characters',
    );
  const hash = createHash('sha256')
    .update(scope.route)
    .update('\0')
    .update(JSON.stringify(scope.body ?? null))
    .digest('hex');
  const previous = await db.query<{ request_hash: string; status: number; response: unknown }>(
    'SELECT request_hash, status, response FROM idempotency_keys WHERE token_id = $1 AND key = $2',
    [scope.tokenId, scope.key],
  );
  const hit = previous.rows[0];
  if (hit) {
    if (hit.request_hash !== hash) {
      throw new ApiError(
        422,
        'KUBEOP_ERR_IDEMPOTENCY_KEY_REUSED',
        'this Idempotency-Key was used with a different request; use a new key',
      );
    }
    return { status: hit.status, body: hit.response, replayed: true };
  }
  const result = await run();
  await db.query(
    `INSERT INTO idempotency_keys (token_id, key, request_hash, status, response) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (token_id, key) DO NOTHING`,
    [scope.tokenId, scope.key, hash, result.status, result.body],
  );
  return { ...result, replayed: false };
}
