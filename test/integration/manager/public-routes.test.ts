import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { registerGitWebhook } from '../../../src/operator/git-webhook.ts';
import { routeDeclarations } from '../../../src/platform/public-routes.ts';
import { drivers, type TestDatabase } from '../../support/databases.ts';
import { bearer, managerApi } from '../../support/manager.ts';

/** The only routes answered without a token: probes, version, metrics, the API's docs, the git webhook. */
const PUBLIC = [
  '/healthz',
  '/readyz',
  '/version',
  '/metrics',
  '/openapi.json',
  '/hooks/git',
  '/docs',
  '/docs/',
  '/docs/*',
  '/docs/json',
  '/docs/yaml',
  '/docs/static/*',
  '/docs/static/index.html',
  '/docs/static/swagger-initializer.js',
];

describe.each(drivers)('authentication is decided by the route, on $name', ({ open }) => {
  let t: TestDatabase;
  let app: FastifyInstance;
  let admin: Record<string, string>;

  beforeAll(async () => {
    t = await open();
    const m = await managerApi(t.db, {
      rateLimitPerMinute: 1000,
      // As under `kubeop all`: the operator's git webhook on the manager's server.
      beside: (server) => registerGitWebhook(server, { secret: 's3cret', trigger: () => 0 }),
    });
    app = m.app;
    admin = bearer(m.adminToken);
  });
  afterAll(async () => {
    await app.close();
    await t.drop();
  });

  it('every registered route declares whether it is public, and only the expected ones are', () => {
    const routes = routeDeclarations(app);
    expect(routes.length).toBeGreaterThan(40);
    expect(routes.filter((r) => typeof r.public !== 'boolean')).toEqual([]);
    const publicUrls = new Set(routes.filter((r) => r.public).map((r) => r.url));
    expect([...publicUrls].filter((u) => !PUBLIC.includes(u))).toEqual([]);
    for (const url of ['/healthz', '/readyz', '/version', '/metrics', '/openapi.json', '/hooks/git', '/docs'])
      expect(publicUrls).toContain(url);
    expect(routes.filter((r) => r.url.startsWith('/v1/') && r.public !== false)).toEqual([]);
  });

  it('a percent-encoded path to a /v1 route passes the authentication hook', async () => {
    for (const url of ['/%761/tenants', '/v%31/tenants', '/%76%31/tokens']) {
      const anonymous = await app.inject(url);
      expect(anonymous.statusCode, url).toBe(401);
      expect(anonymous.json()).toMatchObject({
        code: 'KUBEOP_ERR_UNAUTHENTICATED',
        detail: 'send an API token as "Authorization: Bearer <token>"',
      });
      // The hook, not the handler, resolved the caller: the admin token works through this path.
      expect((await app.inject({ url, headers: admin })).statusCode, url).toBe(200);
    }
  });

  it('public routes answer without a token; the git webhook keeps its own signature check', async () => {
    for (const url of ['/healthz', '/version', '/openapi.json'])
      expect((await app.inject(url)).statusCode, url).toBe(200);
    const body = JSON.stringify({ url: 'https://git.example.com/acme/web.git' });
    const unsigned = await app.inject({
      method: 'POST',
      url: '/hooks/git',
      headers: { 'content-type': 'application/json' },
      payload: body,
    });
    expect(unsigned.json()).toMatchObject({ code: 'KUBEOP_ERR_WEBHOOK_SIGNATURE' });
    const signed = await app.inject({
      method: 'POST',
      url: '/hooks/git',
      headers: {
        'content-type': 'application/json',
        'x-hub-signature-256': `sha256=${createHmac('sha256', 's3cret').update(body).digest('hex')}`,
      },
      payload: body,
    });
    expect(signed.statusCode).toBe(202);
  });
});

describe('routes that do not declare whether they are public', () => {
  it('stop the manager at start', async () => {
    const t = await drivers[1]!.open();
    try {
      await expect(
        managerApi(t.db, {
          beside: (server) => server.get('/undeclared', async () => 'hello'),
        }),
      ).rejects.toThrow(
        'routes must declare config.public (true or false): GET /undeclared, HEAD /undeclared',
      );
    } finally {
      await t.drop();
    }
  });

  it('a percent-encoded /v1 path counts against the token’s rate limit', async () => {
    const t = await drivers[1]!.open();
    const { app, adminToken } = await managerApi(t.db, { rateLimitPerMinute: 2 });
    try {
      const codes: number[] = [];
      for (const url of ['/v1/tenants', '/%761/tenants', '/%761/tenants'])
        codes.push((await app.inject({ url, headers: bearer(adminToken) })).statusCode);
      expect(codes).toEqual([200, 200, 429]);
    } finally {
      await app.close();
      await t.drop();
    }
  });
});
