import type { Database } from '../../db/database.ts';
import { unauthenticated } from '../http/errors.ts';
import { findActiveToken } from './token-store.ts';
import { looksLikeJwt, type OidcAuthenticator } from './oidc.ts';
import type { Principal } from './principal.ts';
import { bearerToken, hashToken, looksLikeApiToken } from './tokens.ts';

/**
 * Resolves the caller from `Authorization: Bearer <token>`: a JWT goes to OIDC when it is configured,
 * anything else is an opaque API token. Every failure is the same 401 whatever the reason (missing,
 * malformed, unknown, revoked, expired), so probing tells an attacker nothing; the token itself is
 * never logged or echoed.
 */
export async function authenticate(
  db: Database,
  header: string | undefined,
  oidc?: OidcAuthenticator,
): Promise<Principal> {
  const token = bearerToken(header);
  if (!token) throw unauthenticated('send an API token as "Authorization: Bearer <token>"');
  if (oidc && looksLikeJwt(token)) return oidc.authenticate(token);
  if (looksLikeApiToken(token)) {
    const row = await findActiveToken(db, hashToken(token));
    if (row) {
      return {
        actor: `token:${row.id}`,
        tokenId: row.id,
        role: row.role,
        ...(row.tenant ? { tenant: row.tenant } : {}),
        ...(row.project ? { project: row.project } : {}),
        ...(row.expiresAt ? { expiresAt: row.expiresAt } : {}),
      };
    }
  }
  throw unauthenticated('the API token is unknown, revoked or expired');
}
