import {
  createRemoteJWKSet,
  errors as joseErrors,
  jwtVerify,
  type JWTVerifyGetKey,
  type JWSHeaderParameters,
  type FlattenedJWSInput,
} from 'jose';
import { grantFor, parseRoleMap, type RoleGrant } from '../../domain/oidc-role-map.ts';
import { ConfigError, type Config } from '../../platform/config.ts';
import { ApiError } from '../../platform/problem.ts';
import { forbidden, unauthenticated } from '../http/errors.ts';
import type { Principal } from './principal.ts';

/**
 * Optional OIDC sign-in: a bearer JWT issued by the configured identity provider is verified against
 * the keys its discovery document publishes (jose: signature, `iss`, `aud`, `exp`/`nbf` with a clock
 * tolerance, and only asymmetric algorithms, so neither `none` nor an HMAC keyed with a public key can
 * pass), then its groups claim is mapped to a kubeOP role by KUBEOP_OIDC_ROLE_MAP.
 *
 * Failures are one 401 whatever the reason, like API tokens; an identity provider that cannot be
 * reached is a 503 (the caller's token may be fine), never a 401 that would send them to log in again.
 */
export interface OidcSettings {
  issuer: string;
  audience: string;
  groupsClaim: string;
  roleMap: RoleGrant[];
  /** Seconds of clock difference tolerated on `exp`, `nbf` and `iat`. Default 60. */
  clockToleranceSeconds?: number;
  /** Accepted signature algorithms. Default: RSA, RSA-PSS, ECDSA and EdDSA ones. */
  algorithms?: string[];
  /** Timeout of discovery and key requests, ms. Default 5000. */
  timeoutMs?: number;
}

export interface OidcAuthenticator {
  authenticate(token: string): Promise<Principal>;
}

export const DEFAULT_ALGORITHMS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
];

/** Three base64url segments (the last empty for `alg: none`, which is refused later, not here). */
export function looksLikeJwt(token: string): boolean {
  return /^[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]*$/.test(token);
}

/** The OIDC settings of a loaded configuration, or undefined when OIDC is off; inconsistent → ConfigError. */
export function oidcSettingsFromConfig(config: Config): OidcSettings | undefined {
  const issuer = config.KUBEOP_OIDC_ISSUER;
  if (!issuer) {
    for (const name of ['KUBEOP_OIDC_AUDIENCE', 'KUBEOP_OIDC_ROLE_MAP'] as const) {
      if (config[name])
        throw new ConfigError(
          name,
          `${name} is set but KUBEOP_OIDC_ISSUER is not: set the issuer or unset ${name}`,
        );
    }
    return undefined;
  }
  if (!config.KUBEOP_OIDC_AUDIENCE) {
    throw new ConfigError(
      'KUBEOP_OIDC_AUDIENCE',
      'KUBEOP_OIDC_AUDIENCE is required with KUBEOP_OIDC_ISSUER: expected the audience (client id) tokens are issued for',
    );
  }
  const roleMap = parseRoleMap(config.KUBEOP_OIDC_ROLE_MAP ?? '');
  if (roleMap.length === 0) {
    throw new ConfigError(
      'KUBEOP_OIDC_ROLE_MAP',
      'KUBEOP_OIDC_ROLE_MAP is required with KUBEOP_OIDC_ISSUER: expected group=role[:tenant[/project]] entries',
    );
  }
  return {
    issuer,
    audience: config.KUBEOP_OIDC_AUDIENCE,
    groupsClaim: config.KUBEOP_OIDC_GROUPS_CLAIM,
    roleMap,
  };
}

const unavailable = () =>
  new ApiError(
    503,
    'KUBEOP_ERR_OIDC_UNAVAILABLE',
    'the OIDC identity provider cannot be reached; retry later',
  );
const invalid = () => unauthenticated('the bearer token is not a valid, unexpired token of the OIDC issuer');

/** Marks failures of fetching keys (as opposed to a token that matches none of them). */
class KeySourceError extends Error {}

function isSafeUrl(text: unknown): text is string {
  try {
    const u = new URL(String(text));
    return (
      u.protocol === 'https:' ||
      (u.protocol === 'http:' && ['127.0.0.1', '[::1]', 'localhost'].includes(u.hostname))
    );
  } catch {
    return false;
  }
}

/** OIDC discovery: the jwks_uri of the issuer, whose document must name the same issuer. */
async function discoverJwksUri(issuer: string, timeoutMs: number): Promise<URL> {
  const res = await fetch(`${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`, {
    signal: AbortSignal.timeout(timeoutMs),
    redirect: 'error',
  });
  if (!res.ok) throw new Error(`discovery answered ${res.status}`);
  const doc = (await res.json()) as { issuer?: unknown; jwks_uri?: unknown };
  if (doc.issuer !== issuer) throw new Error('discovery document names another issuer');
  if (!isSafeUrl(doc.jwks_uri)) throw new Error('discovery document has no usable jwks_uri');
  return new URL(doc.jwks_uri);
}

export function createOidcAuthenticator(settings: OidcSettings): OidcAuthenticator {
  const timeoutMs = settings.timeoutMs ?? 5000;
  let keys: Promise<ReturnType<typeof createRemoteJWKSet>> | undefined;
  let failedAt = 0;

  const keySet = () => {
    // A failed discovery is retried, but at most once a second, so an outage is not a request storm.
    if (!keys && Date.now() - failedAt < 1000) return Promise.reject(new KeySourceError('discovery failed'));
    keys ??= discoverJwksUri(settings.issuer, timeoutMs).then(
      (uri) => createRemoteJWKSet(uri, { timeoutDuration: timeoutMs }),
      (err: unknown) => {
        keys = undefined;
        failedAt = Date.now();
        throw new KeySourceError((err as Error).message);
      },
    );
    return keys;
  };

  const getKey: JWTVerifyGetKey = async (header: JWSHeaderParameters, token: FlattenedJWSInput) => {
    const jwks = await keySet();
    try {
      return await jwks(header, token);
    } catch (err) {
      if (err instanceof joseErrors.JWKSNoMatchingKey || err instanceof joseErrors.JWKSMultipleMatchingKeys)
        throw err;
      throw new KeySourceError((err as Error).message);
    }
  };

  return {
    async authenticate(token: string): Promise<Principal> {
      let payload: Record<string, unknown>;
      try {
        ({ payload } = await jwtVerify(token, getKey, {
          issuer: settings.issuer,
          audience: settings.audience,
          algorithms: settings.algorithms ?? DEFAULT_ALGORITHMS,
          clockTolerance: settings.clockToleranceSeconds ?? 60,
          requiredClaims: ['exp', 'sub'],
        }));
      } catch (err) {
        if (err instanceof KeySourceError) throw unavailable();
        throw invalid();
      }
      const claim = payload[settings.groupsClaim];
      const groups = Array.isArray(claim)
        ? claim.filter((g): g is string => typeof g === 'string')
        : typeof claim === 'string'
          ? [claim]
          : [];
      const grant = grantFor(settings.roleMap, groups);
      if (!grant) {
        throw forbidden(
          'your identity provider groups grant no kubeOP role; ask an administrator to map one',
        );
      }
      return {
        actor: `oidc:${String(payload.sub).slice(0, 200)}`,
        role: grant.role,
        ...(grant.tenant ? { tenant: grant.tenant } : {}),
        ...(grant.project ? { project: grant.project } : {}),
        // `exp` is a required claim, checked by jwtVerify: tokens minted with this JWT end with it.
        ...(typeof payload.exp === 'number' ? { expiresAt: new Date(payload.exp * 1000).toISOString() } : {}),
      };
    },
  };
}
