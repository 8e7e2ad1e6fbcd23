import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { API_TOKEN_PATTERN } from '../../platform/config.ts';

/**
 * Opaque API tokens: `kop_` + 32 random bytes (base64url). Only the SHA-256 of a token is stored;
 * the token itself is shown once, when it is created. A 256-bit random secret needs no slow hash:
 * it cannot be guessed, so a fast digest is enough to make a stolen table useless.
 */
export const TOKEN_PREFIX = 'kop_';

export function generateToken(): string {
  return TOKEN_PREFIX + randomBytes(32).toString('base64url');
}

export function hashToken(token: string): Buffer {
  return createHash('sha256').update(token).digest();
}

/** The token of an `Authorization: Bearer …` header, or undefined when there is none or it is malformed. */
export function bearerToken(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return m?.[1];
}

/** `kop_` and 32 to 128 base64url characters: what kubeOP generates, or an operator may supply. */
export function looksLikeApiToken(token: string): boolean {
  return API_TOKEN_PATTERN.test(token);
}

/** Constant-time comparison of two digests. */
export function sameDigest(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}
