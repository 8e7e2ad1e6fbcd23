import { badRequest } from '../http/errors.ts';

/** The shortest lifetime a token may be given (CreateToken's `expiresInSeconds` minimum). */
export const MIN_TOKEN_SECONDS = 60;

/**
 * When a token asked for by a caller expires: never (null) or an instant. A token cannot outlive
 * its maker, so a caller that itself expires (an API token with an expiry, an OIDC JWT's `exp`) may
 * only ask for a lifetime that ends no later than its own; asking for more, or for none, is refused
 * (400 KUBEOP_ERR_TOKEN_EXPIRY) rather than quietly shortened, so the caller learns the real lifetime
 * before relying on it. A caller that never expires (the bootstrap token) may create tokens that
 * never expire.
 */
export function mintedTokenExpiry(
  makerExpiresAt: string | undefined,
  expiresInSeconds: number | undefined,
  nowMs: number,
): string | null {
  const wanted = expiresInSeconds === undefined ? undefined : nowMs + expiresInSeconds * 1000;
  if (makerExpiresAt === undefined) return wanted === undefined ? null : new Date(wanted).toISOString();
  const limit = Date.parse(makerExpiresAt);
  const maxSeconds = Math.floor((limit - nowMs) / 1000);
  if (maxSeconds < MIN_TOKEN_SECONDS) {
    throw badRequest(
      'TOKEN_EXPIRY',
      `your credentials expire at ${makerExpiresAt}, in less than the ${MIN_TOKEN_SECONDS} s a token must live: create the token with longer-lived credentials`,
    );
  }
  if (wanted === undefined || wanted > limit) {
    throw badRequest(
      'TOKEN_EXPIRY',
      `a token cannot outlive the credentials that create it, which expire at ${makerExpiresAt}: set "expiresInSeconds" to at most ${maxSeconds}`,
    );
  }
  return new Date(wanted).toISOString();
}
