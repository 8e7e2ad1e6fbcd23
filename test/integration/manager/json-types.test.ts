import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { drivers, type TestDatabase } from '../../support/databases.ts';
import { bearer, managerApi } from '../../support/manager.ts';

const appUrl = '/v1/tenants/acme/projects/web/apps/site';
const spec = (replicas: unknown) => ({ source: { image: { ref: 'ghcr.io/acme/web:1.0' } }, replicas });

describe.each(drivers)('JSON types in bodies are taken as sent, on $name', ({ open }) => {
  let t: TestDatabase;
  let app: FastifyInstance;
  let admin: Record<string, string>;

  beforeAll(async () => {
    t = await open();
    const m = await managerApi(t.db);
    app = m.app;
    admin = bearer(m.adminToken);
    for (const [url, payload] of [
      ['/v1/tenants', { name: 'acme', spec: { owners: [{ kind: 'User', name: 'alice' }] } }],
      ['/v1/tenants/acme/projects', { name: 'web', spec: {} }],
      ['/v1/tenants/acme/projects/web/apps', { name: 'site', spec: spec(2) }],
    ] as const) {
      const res = await app.inject({ method: 'POST', url, headers: admin, payload });
      expect(res.statusCode, res.body).toBe(201);
    }
  });
  afterAll(async () => {
    await app.close();
    await t.drop();
  });

  const stored = async () =>
    (await t.db.query<{ spec: unknown }>("SELECT spec FROM apps WHERE name = 'site'")).rows[0]!.spec;
  const outbox = async () =>
    (await t.db.query<{ n: number }>('SELECT count(*)::int AS n FROM outbox')).rows[0]!.n;

  it.each([
    ['null', null],
    ['the string "3"', '3'],
    ['true', true],
  ])('"replicas": %s is a 400 naming the field, and the App is unchanged', async (_label, replicas) => {
    const before = { spec: await stored(), outbox: await outbox() };
    const res = await app.inject({
      method: 'PUT',
      url: appUrl,
      headers: admin,
      payload: { spec: spec(replicas) },
    });
    expect(res.statusCode).toBe(400);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    const body = res.json() as { code: string; errors: Array<{ path: string; message: string }> };
    expect(body.code).toBe('KUBEOP_ERR_VALIDATION');
    expect(body.errors).toContainEqual({ path: '/spec/replicas', message: 'must be integer' });
    expect({ spec: await stored(), outbox: await outbox() }).toEqual(before);
    const read = await app.inject({ url: appUrl, headers: admin });
    expect((read.json() as { spec: { replicas: number } }).spec.replicas).toBe(2);
  });

  it('a name sent as the number 4711 is a 400 naming the field, and no App is created', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/v1/tenants/acme/projects/web/apps',
      headers: admin,
      payload: { name: 4711, spec: spec(1) },
    });
    expect(res.statusCode).toBe(400);
    expect((res.json() as { errors: unknown[] }).errors).toContainEqual({
      path: '/name',
      message: 'must be string',
    });
    const n = await t.db.query<{ n: number }>("SELECT count(*)::int AS n FROM apps WHERE name = '4711'");
    expect(n.rows[0]!.n).toBe(0);
  });

  it('path and query parameters are still read from their text', async () => {
    const res = await app.inject({ url: '/v1/audit?limit=1', headers: admin });
    expect(res.statusCode).toBe(200);
    expect((res.json() as { items: unknown[] }).items).toHaveLength(1);
  });

  it('a body of the right types is accepted, defaults filled in', async () => {
    const res = await app.inject({ method: 'PUT', url: appUrl, headers: admin, payload: { spec: spec(3) } });
    expect(res.statusCode, res.body).toBe(200);
    expect((await stored()) as { replicas: number }).toMatchObject({ replicas: 3 });
  });
});
