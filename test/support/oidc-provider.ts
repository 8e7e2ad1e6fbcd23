import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type JWTPayload, type CryptoKey } from 'jose';

/**
 * A minimal OIDC identity provider on 127.0.0.1 for tests: a discovery document, a JWKS with an RSA
 * and an EC key, and a signer for tokens (good ones and every kind of bad one).
 */
export interface TestOidcProvider {
  issuer: string;
  audience: string;
  /** JWKS requests served so far. */
  jwksRequests: () => number;
  sign(
    claims?: JWTPayload,
    opts?: { kid?: string; issuer?: string; audience?: string; expiresIn?: string | number },
  ): Promise<string>;
  /** A token with `alg: none` and no signature. */
  unsigned(claims?: JWTPayload): string;
  /** A token signed with a key that is not in the JWKS, under the given kid. */
  signWithForeignKey(kid: string, claims?: JWTPayload): Promise<string>;
  /** An HS256 token whose HMAC secret is the published RSA public key (the algorithm-confusion attack). */
  hmacWithPublicKey(claims?: JWTPayload): Promise<string>;
  close(): Promise<void>;
}

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

export async function startOidcProvider(audience = 'kubeop'): Promise<TestOidcProvider> {
  const rsa = await generateKeyPair('RS256', { extractable: true });
  const ec = await generateKeyPair('ES256', { extractable: true });
  const keys: Array<{ kid: string; alg: string; priv: CryptoKey; pub: CryptoKey }> = [
    { kid: 'rsa-1', alg: 'RS256', priv: rsa.privateKey, pub: rsa.publicKey },
    { kid: 'ec-1', alg: 'ES256', priv: ec.privateKey, pub: ec.publicKey },
  ];
  const jwks = {
    keys: await Promise.all(
      keys.map(async (k) => ({ ...(await exportJWK(k.pub)), kid: k.kid, alg: k.alg, use: 'sig' })),
    ),
  };
  let issuer = '';
  let jwksRequests = 0;
  const server: Server = createServer((req, res) => {
    const body =
      req.url === '/.well-known/openid-configuration'
        ? { issuer, jwks_uri: `${issuer}/jwks` }
        : req.url === '/jwks'
          ? (jwksRequests++, jwks)
          : undefined;
    res.writeHead(body ? 200 : 404, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body ?? { error: 'not found' }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const base = (claims: JWTPayload = {}) => ({ sub: 'alice', groups: [], ...claims });
  const build = (
    claims: JWTPayload,
    opts: { issuer?: string; audience?: string; expiresIn?: string | number },
  ) =>
    new SignJWT(base(claims))
      .setIssuer(opts.issuer ?? issuer)
      .setAudience(opts.audience ?? audience)
      .setIssuedAt()
      .setExpirationTime(opts.expiresIn ?? '5m');

  return {
    issuer,
    audience,
    jwksRequests: () => jwksRequests,
    async sign(claims = {}, opts = {}) {
      const key = keys.find((k) => k.kid === (opts.kid ?? 'rsa-1'))!;
      return build(claims, opts).setProtectedHeader({ alg: key.alg, kid: key.kid }).sign(key.priv);
    },
    unsigned(claims = {}) {
      const now = Math.floor(Date.now() / 1000);
      return `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ iss: issuer, aud: audience, iat: now, exp: now + 300, ...base(claims) })}.`;
    },
    async signWithForeignKey(kid, claims = {}) {
      const other = await generateKeyPair('RS256');
      return build(claims, {}).setProtectedHeader({ alg: 'RS256', kid }).sign(other.privateKey);
    },
    async hmacWithPublicKey(claims = {}) {
      const secret = new TextEncoder().encode(JSON.stringify(jwks.keys[0]));
      return build(claims, {}).setProtectedHeader({ alg: 'HS256', kid: 'rsa-1' }).sign(secret);
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
