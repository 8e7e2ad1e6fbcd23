import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../platform/config.ts';
import { ApiError } from '../../platform/problem.ts';
import { startOidcProvider, type TestOidcProvider } from '../../../test/support/oidc-provider.ts';
import { parseRoleMap } from '../../domain/oidc-role-map.ts';
import {
  createOidcAuthenticator,
  looksLikeJwt,
  oidcSettingsFromConfig,
  type OidcAuthenticator,
} from './oidc.ts';

const roleMap = parseRoleMap(
  'ops=platform-admin,acme-ops=tenant-admin:acme,web-devs=project-editor:acme/web',
);

async function failure(p: Promise<unknown>): Promise<ApiError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof ApiError) return err;
    throw err;
  }
  throw new Error('expected a refusal');
}

describe('OIDC authenticator', () => {
  let idp: TestOidcProvider;
  let oidc: OidcAuthenticator;

  beforeAll(async () => {
    idp = await startOidcProvider();
    oidc = createOidcAuthenticator({
      issuer: idp.issuer,
      audience: idp.audience,
      groupsClaim: 'groups',
      roleMap,
      clockToleranceSeconds: 30,
    });
  });
  afterAll(() => idp.close());

  it('maps the first matching group to its role and scope, with the subject as actor', async () => {
    const token = await idp.sign({ sub: 'u-1', groups: ['web-devs', 'acme-ops'] });
    expect(await oidc.authenticate(token)).toEqual({
      actor: 'oidc:u-1',
      role: 'tenant-admin',
      tenant: 'acme',
      // The JWT's `exp` (5 minutes by default): tokens minted with it end no later.
      expiresAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000Z$/),
    });
    const editor = await idp.sign({ groups: ['web-devs'] }, { kid: 'ec-1' });
    expect(await oidc.authenticate(editor)).toMatchObject({
      role: 'project-editor',
      tenant: 'acme',
      project: 'web',
    });
  });

  it('fetches the keys once and reuses them', async () => {
    const before = idp.jwksRequests();
    for (let i = 0; i < 3; i++) await oidc.authenticate(await idp.sign({ groups: ['ops'] }));
    expect(idp.jwksRequests() - before).toBe(0);
  });

  it('reads another groups claim, also when it is a single string', async () => {
    const custom = createOidcAuthenticator({
      issuer: idp.issuer,
      audience: idp.audience,
      groupsClaim: 'roles',
      roleMap,
    });
    expect(await custom.authenticate(await idp.sign({ roles: 'ops', groups: ['acme-ops'] }))).toMatchObject({
      role: 'platform-admin',
    });
  });

  it('tolerates clock skew within the tolerance only', async () => {
    const now = Math.floor(Date.now() / 1000);
    await expect(
      oidc.authenticate(await idp.sign({ groups: ['ops'] }, { expiresIn: now - 10 })),
    ).resolves.toMatchObject({
      role: 'platform-admin',
    });
    const expired = await failure(
      oidc.authenticate(await idp.sign({ groups: ['ops'] }, { expiresIn: now - 120 })),
    );
    expect(expired.status).toBe(401);
  });

  const bad: Array<[string, (idp: TestOidcProvider) => Promise<string> | string]> = [
    ['another issuer', (p) => p.sign({ groups: ['ops'] }, { issuer: 'https://evil.example.com' })],
    ['another audience', (p) => p.sign({ groups: ['ops'] }, { audience: 'someone-else' })],
    [
      'an expired token',
      (p) => p.sign({ groups: ['ops'] }, { expiresIn: Math.floor(Date.now() / 1000) - 3600 }),
    ],
    ['an unknown kid', (p) => p.signWithForeignKey('rsa-2', { groups: ['ops'] })],
    ['a known kid signed by another key', (p) => p.signWithForeignKey('rsa-1', { groups: ['ops'] })],
    ['alg none', (p) => p.unsigned({ groups: ['ops'] })],
    ['HS256 keyed with the public key', (p) => p.hmacWithPublicKey({ groups: ['ops'] })],
    ['no subject', (p) => p.sign({ sub: undefined, groups: ['ops'] })],
    [
      'a tampered payload',
      async (p) => {
        const [h, , s] = (await p.sign({ groups: ['web-devs'] })).split('.');
        const forged = Buffer.from(
          JSON.stringify({ sub: 'x', groups: ['ops'], iss: p.issuer, aud: p.audience, exp: 9e9 }),
        );
        return `${h}.${forged.toString('base64url')}.${s}`;
      },
    ],
  ];

  it.each(bad)('refuses %s with the same 401, never echoing the token', async (_what, make) => {
    const token = await make(idp);
    const err = await failure(oidc.authenticate(token));
    expect({ status: err.status, code: err.code }).toEqual({
      status: 401,
      code: 'KUBEOP_ERR_UNAUTHENTICATED',
    });
    expect(err.message).not.toContain(token);
    expect(err.message).toBe('the bearer token is not a valid, unexpired token of the OIDC issuer');
  });

  it('refuses a valid token whose groups map to no role with a 403', async () => {
    const err = await failure(oidc.authenticate(await idp.sign({ groups: ['nobody'] })));
    expect({ status: err.status, code: err.code }).toEqual({ status: 403, code: 'KUBEOP_ERR_FORBIDDEN' });
  });

  it('answers 503 when the identity provider cannot be reached, and recovers when it can', async () => {
    const down = createOidcAuthenticator({
      issuer: 'http://127.0.0.1:9',
      audience: 'kubeop',
      groupsClaim: 'groups',
      roleMap,
      timeoutMs: 1000,
    });
    const err = await failure(down.authenticate(await idp.sign({ groups: ['ops'] })));
    expect({ status: err.status, code: err.code }).toEqual({
      status: 503,
      code: 'KUBEOP_ERR_OIDC_UNAVAILABLE',
    });
  });

  it('refuses a discovery document that names another issuer', async () => {
    const liar = createOidcAuthenticator({
      issuer: `${idp.issuer}/`,
      audience: 'kubeop',
      groupsClaim: 'groups',
      roleMap,
    });
    const err = await failure(
      liar.authenticate(await idp.sign({ groups: ['ops'] }, { issuer: `${idp.issuer}/` })),
    );
    expect(err.status).toBe(503);
  });
});

describe('looksLikeJwt', () => {
  it('tells JWTs from API tokens', () => {
    expect(looksLikeJwt('eyJhbGciOiJub25lIn0.eyJzdWIiOiJhIn0.')).toBe(true);
    expect(looksLikeJwt('eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhIn0.c2ln')).toBe(true);
    expect(looksLikeJwt('kop_' + 'a'.repeat(43))).toBe(false);
    expect(looksLikeJwt('a.b')).toBe(false);
  });
});

describe('OIDC configuration', () => {
  const settings = (env: Record<string, string>) => oidcSettingsFromConfig(loadConfig(env).config);
  const configError = (fn: () => unknown): string => {
    try {
      fn();
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as Error).message).not.toContain('\n');
      return (err as Error).message;
    }
    throw new Error('expected a ConfigError');
  };

  it('is off without an issuer', () => {
    expect(settings({})).toBeUndefined();
  });

  it('reads issuer, audience, groups claim and role map', () => {
    expect(
      settings({
        KUBEOP_OIDC_ISSUER: 'https://login.example.com',
        KUBEOP_OIDC_AUDIENCE: 'kubeop',
        KUBEOP_OIDC_ROLE_MAP: '{"ops":"platform-admin"}',
      }),
    ).toEqual({
      issuer: 'https://login.example.com',
      audience: 'kubeop',
      groupsClaim: 'groups',
      roleMap: [{ group: 'ops', role: 'platform-admin' }],
    });
  });

  it.each([
    [{ KUBEOP_OIDC_ISSUER: 'http://login.example.com' }, /KUBEOP_OIDC_ISSUER=.*https/],
    [{ KUBEOP_OIDC_ROLE_MAP: 'ops=god' }, /KUBEOP_OIDC_ROLE_MAP=.*unknown role "god"/],
    [
      { KUBEOP_OIDC_ISSUER: 'https://x.example.com', KUBEOP_OIDC_ROLE_MAP: 'ops=platform-admin' },
      /AUDIENCE is required/,
    ],
    [{ KUBEOP_OIDC_ISSUER: 'https://x.example.com', KUBEOP_OIDC_AUDIENCE: 'k' }, /ROLE_MAP is required/],
    [{ KUBEOP_OIDC_AUDIENCE: 'k' }, /KUBEOP_OIDC_ISSUER is not/],
  ])('refuses %o in one line', (env, message) => {
    expect(configError(() => settings(env))).toMatch(message);
  });
});
