import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { drivers, type TestDatabase } from '../../support/databases.ts';
import { bearer, managerApi } from '../../support/manager.ts';

describe.each(drivers)('a token cannot outlive its maker, on $name', ({ open }) => {
  let t: TestDatabase;
  let app: FastifyInstance;
  let admin: Record<string, string>;
  let shortLived: { token: string; expiresAt: string };

  const post = (headers: Record<string, string>, payload: object) =>
    app.inject({ method: 'POST', url: '/v1/tokens', headers, payload });
  const tokenCount = async () =>
    (await t.db.query<{ n: number }>('SELECT count(*)::int AS n FROM api_tokens')).rows[0]!.n;
  const projectAdmin = { role: 'project-admin', tenant: 'acme', project: 'web' };

  beforeAll(async () => {
    t = await open();
    const m = await managerApi(t.db);
    app = m.app;
    admin = bearer(m.adminToken);
    const tenant = await app.inject({
      method: 'POST',
      url: '/v1/tenants',
      headers: admin,
      payload: { name: 'acme', spec: { owners: [{ kind: 'User', name: 'alice' }] } },
    });
    expect(tenant.statusCode).toBe(201);
    const project = await app.inject({
      method: 'POST',
      url: '/v1/tenants/acme/projects',
      headers: admin,
      payload: { name: 'web', spec: {} },
    });
    expect(project.statusCode).toBe(201);
    const res = await post(admin, { name: 'ten minutes', ...projectAdmin, expiresInSeconds: 600 });
    expect(res.statusCode).toBe(201);
    shortLived = res.json() as { token: string; expiresAt: string };
  });
  afterAll(async () => {
    await app.close();
    await t.drop();
  });

  it('an expiring token cannot create a token that never expires, and nothing is stored', async () => {
    const before = await tokenCount();
    const res = await post(bearer(shortLived.token), { name: 'forever', ...projectAdmin });
    expect(res.statusCode).toBe(400);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.json()).toMatchObject({
      code: 'KUBEOP_ERR_TOKEN_EXPIRY',
      detail: expect.stringMatching(/expiresInSeconds" to at most (59\d|600)$/),
    });
    expect(await tokenCount()).toBe(before);
  });

  it('an expiring token cannot create a token that expires later than itself', async () => {
    const before = await tokenCount();
    const res = await post(bearer(shortLived.token), {
      name: 'later',
      ...projectAdmin,
      expiresInSeconds: 3600,
    });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ code: 'KUBEOP_ERR_TOKEN_EXPIRY' });
    expect(await tokenCount()).toBe(before);
  });

  it('an expiring token creates a token that expires no later than itself', async () => {
    const res = await post(bearer(shortLived.token), {
      name: 'shorter',
      ...projectAdmin,
      expiresInSeconds: 120,
    });
    expect(res.statusCode).toBe(201);
    const minted = res.json() as { expiresAt: string };
    expect(Date.parse(minted.expiresAt)).toBeLessThanOrEqual(Date.parse(shortLived.expiresAt));
  });

  it('the bootstrap token, which never expires, may create tokens that never expire', async () => {
    const res = await post(admin, { name: 'forever', ...projectAdmin });
    expect(res.statusCode).toBe(201);
    expect((res.json() as { expiresAt: unknown }).expiresAt).toBeNull();
  });
});
