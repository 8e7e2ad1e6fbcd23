import type { Database } from '../../db/database.ts';
import { API_TOKEN_EXPECTED, ConfigError } from '../../platform/config.ts';
import { generateToken, hashToken, looksLikeApiToken } from './tokens.ts';
import { countPlatformAdmins, insertToken } from './token-store.ts';

/**
 * The first platform-admin token. Given in `KUBEOP_BOOTSTRAP_TOKEN`, it is stored (hashed) if it is
 * not already. Otherwise, when no platform-admin token exists, one is generated and handed to
 * `show` — once: it is never stored in clear nor logged, so a lost bootstrap token is replaced by
 * revoking the others or setting KUBEOP_BOOTSTRAP_TOKEN.
 */
export async function ensureBootstrapToken(
  db: Database,
  given: string | undefined,
  show: (token: string) => void,
): Promise<'given' | 'generated' | 'exists'> {
  if (given) {
    if (!looksLikeApiToken(given)) {
      // A configuration error (exit 2), like every other bad variable; loadConfig already checks it.
      throw new ConfigError(
        'KUBEOP_BOOTSTRAP_TOKEN',
        `KUBEOP_BOOTSTRAP_TOKEN=(value hidden) is invalid: ${API_TOKEN_EXPECTED}`,
      );
    }
    await db.transaction(async (tx) => {
      // Replicas starting together with the same token would both insert it without the lock.
      await tx.query('SELECT pg_advisory_xact_lock($1)', [0x6b75_6270]);
      const { rowCount } = await tx.query('SELECT 1 FROM api_tokens WHERE token_hash = $1', [
        hashToken(given),
      ]);
      if (!rowCount)
        await insertToken(tx, {
          name: 'bootstrap (KUBEOP_BOOTSTRAP_TOKEN)',
          hash: hashToken(given),
          role: 'platform-admin',
        });
    });
    return 'given';
  }
  const created = await db.transaction(async (tx) => {
    // Serialised on an advisory lock so two managers starting together create one token, not two.
    await tx.query('SELECT pg_advisory_xact_lock($1)', [0x6b75_6270]);
    if ((await countPlatformAdmins(tx)) > 0) return undefined;
    const token = generateToken();
    await insertToken(tx, { name: 'bootstrap', hash: hashToken(token), role: 'platform-admin' });
    return token;
  });
  if (!created) return 'exists';
  show(created);
  return 'generated';
}
