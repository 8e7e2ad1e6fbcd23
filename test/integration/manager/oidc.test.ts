import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { parseRoleMap } from '../../../src/domain/oidc-role-map.ts';
import { drivers, type TestDatabase } from '../../support/databases.ts';
import { bearer, managerApi } from '../../support/manager.ts';
import { startOidcProvider, type TestOidcProvider } from '../../support/oidc-provider.ts';

const tenantSpec = { owners: [{ kind: 'User', name: 'alice' }] };
const appSpec = { source: { image: { ref: 'nginx:1.27' } } };

describe.each(drivers)('OIDC sign-in to the manager API on $name', ({ open }) => {
  let t: TestDatabase;
  let app: FastifyInstance;
  let idp: TestOidcProvider;
  let admin: Record<string, string>;
  let tenantAdminA: Record<string, string>;

  beforeAll(async () => {
    idp = await startOidcProvider();
    t = await open();
    ({ app } = await managerApi(t.db, {
      oidc: {
        issuer: idp.issuer,
        audience: idp.audience,
        groupsClaim: 'groups',
        roleMap: parseRoleMap(
          'platform-ops=platform-admin,team-a=tenant-admin:tenant-a,a-web=project-viewer:tenant-a/web',
        ),
      },
    }));
    admin = bearer(await idp.sign({ sub: 'ops-1', groups: ['platform-ops'] }));
    tenantAdminA = bearer(await idp.sign({ sub: 'anna', groups: ['team-a'] }));
    for (const name of ['tenant-a', 'tenant-b']) {
      const res = await app.inject({
        method: 'POST',
        url: '/v1/tenants',
        headers: admin,
        payload: { name, spec: tenantSpec },
      });
      expect(res.statusCode).toBe(201);
    }
  });
  afterAll(async () => {
    await app.close();
    await t.drop();
    await idp.close();
  });

  it('a token whose group maps to platform-admin works on the API, audited under its subject', async () => {
    const res = await app.inject({ url: '/v1/tenants', headers: admin });
    expect(res.statusCode).toBe(200);
    expect((res.json() as { items: Array<{ name: string }> }).items.map((i) => i.name)).toEqual([
      'tenant-a',
      'tenant-b',
    ]);
    const audit = await t.db.query<{ actor: string }>(
      "SELECT actor FROM audit_log WHERE action = 'create' AND resource_type = 'tenant' ORDER BY at",
    );
    expect(audit.rows.map((r) => r.actor)).toEqual(['oidc:ops-1', 'oidc:ops-1']);
  });

  it('a group mapped to tenant-admin of A works in A and cannot see or change B', async () => {
    const own = await app.inject({
      method: 'POST',
      url: '/v1/tenants/tenant-a/projects',
      headers: tenantAdminA,
      payload: { name: 'web', spec: {} },
    });
    expect(own.statusCode).toBe(201);
    const list = await app.inject({ url: '/v1/tenants', headers: tenantAdminA });
    expect((list.json() as { items: Array<{ name: string }> }).items.map((i) => i.name)).toEqual([
      'tenant-a',
    ]);
    for (const req of [
      { method: 'GET' as const, url: '/v1/tenants/tenant-b' },
      { method: 'GET' as const, url: '/v1/tenants/tenant-b/projects' },
      { method: 'POST' as const, url: '/v1/tenants/tenant-b/projects', payload: { name: 'x', spec: {} } },
      { method: 'DELETE' as const, url: '/v1/tenants/tenant-b' },
    ]) {
      const res = await app.inject({ ...req, headers: tenantAdminA });
      expect({ url: req.url, method: req.method, status: res.statusCode }).toEqual({
        url: req.url,
        method: req.method,
        status: 404,
      });
    }
    const b = await t.db.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM projects p JOIN tenants t ON t.id = p.tenant_id WHERE t.name = 'tenant-b'",
    );
    expect(b.rows[0]!.n).toBe(0);
  });

  it('a project-viewer group reads its project but cannot create apps in it', async () => {
    const viewer = bearer(await idp.sign({ sub: 'vic', groups: ['a-web'] }));
    expect((await app.inject({ url: '/v1/tenants/tenant-a/projects/web', headers: viewer })).statusCode).toBe(
      200,
    );
    const res = await app.inject({
      method: 'POST',
      url: '/v1/tenants/tenant-a/projects/web/apps',
      headers: viewer,
      payload: { name: 'site', spec: appSpec },
    });
    expect(res.statusCode).toBe(403);
  });

  const refused: Array<[string, (p: TestOidcProvider) => Promise<string> | string]> = [
    ['another issuer', (p) => p.sign({ groups: ['platform-ops'] }, { issuer: 'https://evil.example.com' })],
    ['another audience', (p) => p.sign({ groups: ['platform-ops'] }, { audience: 'other-client' })],
    [
      'an expired token',
      (p) => p.sign({ groups: ['platform-ops'] }, { expiresIn: Math.floor(Date.now() / 1000) - 3600 }),
    ],
    ['an unknown kid', (p) => p.signWithForeignKey('unknown-kid', { groups: ['platform-ops'] })],
    ['alg none', (p) => p.unsigned({ groups: ['platform-ops'] })],
    ['HS256 keyed with the public key', (p) => p.hmacWithPublicKey({ groups: ['platform-ops'] })],
  ];

  it.each(refused)('refuses %s with a 401 problem that does not echo the token', async (_what, make) => {
    const token = await make(idp);
    const res = await app.inject({
      method: 'POST',
      url: '/v1/tenants',
      headers: bearer(token),
      payload: { name: 'evil', spec: tenantSpec },
    });
    expect(res.statusCode).toBe(401);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.json()).toMatchObject({ code: 'KUBEOP_ERR_UNAUTHENTICATED' });
    expect(res.body).not.toContain(token);
    expect(res.body).not.toContain(token.split('.')[1]);
    const evil = await t.db.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM tenants WHERE name = 'evil'",
    );
    expect(evil.rows[0]!.n).toBe(0);
  });

  it('keeps API tokens working beside OIDC', async () => {
    const created = await app.inject({
      method: 'POST',
      url: '/v1/tokens',
      headers: tenantAdminA,
      payload: { name: 'ci', role: 'tenant-admin', tenant: 'tenant-a', expiresInSeconds: 240 },
    });
    expect(created.statusCode).toBe(201);
    const res = await app.inject({
      url: '/v1/tenants/tenant-a',
      headers: bearer((created.json() as { token: string }).token),
    });
    expect(res.statusCode).toBe(200);
  });

  it('a token minted with a JWT ends no later than the JWT (5 minutes here)', async () => {
    const count = async () =>
      (await t.db.query<{ n: number }>('SELECT count(*)::int AS n FROM api_tokens')).rows[0]!.n;
    const before = await count();
    for (const extra of [{}, { expiresInSeconds: 3600 }]) {
      const res = await app.inject({
        method: 'POST',
        url: '/v1/tokens',
        headers: tenantAdminA,
        payload: { name: 'forever', role: 'tenant-admin', tenant: 'tenant-a', ...extra },
      });
      expect(res.statusCode).toBe(400);
      expect(res.json()).toMatchObject({ code: 'KUBEOP_ERR_TOKEN_EXPIRY' });
    }
    expect(await count()).toBe(before);
  });
});
