import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { Validator } from '@seriousme/openapi-schema-validator';
import { drivers, type TestDatabase } from '../../support/databases.ts';
import { findPlaintext } from '../kms/plaintext-scan.ts';
import { bearer, managerApi } from '../../support/manager.ts';

const tenantSpec = { owners: [{ kind: 'User', name: 'alice' }], quota: { cpu: '8', pods: 40 } };
const appSpec = { source: { image: { ref: 'ghcr.io/acme/web:1.0' } }, replicas: 2 };

describe.each(drivers)('manager API on $name', ({ open }) => {
  let t: TestDatabase;
  let app: FastifyInstance;
  let admin: Record<string, string>;

  beforeAll(async () => {
    t = await open();
    const m = await managerApi(t.db);
    app = m.app;
    admin = bearer(m.adminToken);
  });
  afterAll(async () => {
    await app.close();
    await t.drop();
  });

  const post = (url: string, headers: Record<string, string>, payload: unknown) =>
    app.inject({ method: 'POST', url, headers, payload: payload as object });
  const count = async (sql: string, params: unknown[] = []) =>
    (await t.db.query<{ n: number }>(sql, params)).rows[0]!.n;

  describe('authentication', () => {
    it('refuses a request without a token with a 401 problem', async () => {
      const res = await app.inject('/v1/tenants');
      expect(res.statusCode).toBe(401);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(res.json()).toMatchObject({ code: 'KUBEOP_ERR_UNAUTHENTICATED' });
    });

    it('refuses unknown and malformed tokens alike, without echoing them', async () => {
      for (const token of ['kop_' + 'x'.repeat(43), 'not-a-token']) {
        const res = await app.inject({ url: '/v1/tenants', headers: bearer(token) });
        expect(res.statusCode).toBe(401);
        expect(res.body).not.toContain(token);
      }
    });
  });

  describe('tenants', () => {
    it('creates a tenant, with an ETag, an audit entry and an outbox entry in one go', async () => {
      const before = await count('SELECT count(*)::int AS n FROM outbox');
      const res = await post('/v1/tenants', admin, { name: 'acme', spec: tenantSpec });
      expect(res.statusCode).toBe(201);
      expect(res.headers.etag).toBe('"1"');
      expect(res.json()).toMatchObject({ name: 'acme', spec: tenantSpec, version: 1 });
      const outbox = await t.db.query<{ kind: string; operation: string; payload: { spec: unknown } }>(
        "SELECT kind, operation, payload FROM outbox WHERE name = 'acme' ORDER BY id",
      );
      expect(outbox.rows).toEqual([
        { kind: 'Tenant', operation: 'apply', payload: expect.objectContaining({ spec: tenantSpec }) },
      ]);
      expect(await count('SELECT count(*)::int AS n FROM outbox')).toBe(before + 1);
      expect(
        await count(
          "SELECT count(*)::int AS n FROM audit_log WHERE resource_name = 'acme' AND action = 'create'",
        ),
      ).toBe(1);
    });

    it('refuses a second tenant of the same name with a 409', async () => {
      const res = await post('/v1/tenants', admin, { name: 'acme', spec: tenantSpec });
      expect(res.statusCode).toBe(409);
      expect(res.json()).toMatchObject({ code: 'KUBEOP_ERR_TENANT_EXISTS' });
    });

    it('refuses bad input with a 400 naming each problem, and stores nothing', async () => {
      const before = await count('SELECT count(*)::int AS n FROM tenants');
      const res = await post('/v1/tenants', admin, {
        name: 'Bad_Name',
        spec: { owners: [], quota: { cpu: 'lots' }, typo: 1 },
      });
      expect(res.statusCode).toBe(400);
      const body = res.json() as { code: string; errors: Array<{ path: string }> };
      expect(body.code).toBe('KUBEOP_ERR_VALIDATION');
      expect(body.errors.map((e) => e.path)).toEqual(
        expect.arrayContaining(['/name', '/spec/owners', '/spec']),
      );
      expect(await count('SELECT count(*)::int AS n FROM tenants')).toBe(before);
    });

    it('honours If-Match: a stale ETag gets 412, the current one updates', async () => {
      const stale = await app.inject({
        method: 'PUT',
        url: '/v1/tenants/acme',
        headers: { ...admin, 'if-match': '"7"' },
        payload: { spec: tenantSpec },
      });
      expect(stale.statusCode).toBe(412);
      expect(stale.json()).toMatchObject({ code: 'KUBEOP_ERR_PRECONDITION_FAILED' });
      const spec = { ...tenantSpec, quota: { cpu: '16', pods: 80 } };
      const ok = await app.inject({
        method: 'PUT',
        url: '/v1/tenants/acme',
        headers: { ...admin, 'if-match': '"1"' },
        payload: { spec },
      });
      expect(ok.statusCode).toBe(200);
      expect(ok.headers.etag).toBe('"2"');
      expect(ok.json()).toMatchObject({ spec, version: 2 });
    });

    it('pages through tenants in name order with a cursor', async () => {
      for (const n of ['p-a', 'p-b', 'p-c', 'p-d', 'p-e'])
        await post('/v1/tenants', admin, { name: n, spec: tenantSpec });
      const seen: string[] = [];
      let cursor: string | undefined;
      do {
        const res = await app.inject({
          url: `/v1/tenants?limit=2${cursor ? `&cursor=${cursor}` : ''}`,
          headers: admin,
        });
        const body = res.json() as { items: Array<{ name: string }>; nextCursor?: string };
        expect(body.items.length).toBeLessThanOrEqual(2);
        seen.push(...body.items.map((i) => i.name));
        cursor = body.nextCursor;
      } while (cursor);
      expect(seen).toEqual(['acme', 'p-a', 'p-b', 'p-c', 'p-d', 'p-e']);
    });

    it('replays a POST with the same Idempotency-Key instead of creating twice', async () => {
      const headers = { ...admin, 'idempotency-key': 'create-idem-1' };
      const first = await post('/v1/tenants', headers, { name: 'idem', spec: tenantSpec });
      const again = await post('/v1/tenants', headers, { name: 'idem', spec: tenantSpec });
      expect(first.statusCode).toBe(201);
      expect(again.statusCode).toBe(201);
      expect(again.headers['idempotent-replayed']).toBe('true');
      expect(again.json()).toEqual(first.json());
      const other = await post('/v1/tenants', headers, { name: 'idem-2', spec: tenantSpec });
      expect(other.statusCode).toBe(422);
      expect(other.json()).toMatchObject({ code: 'KUBEOP_ERR_IDEMPOTENCY_KEY_REUSED' });
      expect(await count("SELECT count(*)::int AS n FROM tenants WHERE name LIKE 'idem%'")).toBe(1);
    });
  });

  describe('projects and apps', () => {
    it('creates a project and an app whose outbox entry targets the project namespace', async () => {
      const p = await post('/v1/tenants/acme/projects', admin, {
        name: 'acme-web',
        spec: { quota: { cpu: '2', pods: 10 } },
      });
      expect(p.statusCode).toBe(201);
      expect(p.json()).toMatchObject({ name: 'acme-web', tenant: 'acme' });
      const a = await post('/v1/tenants/acme/projects/acme-web/apps', admin, { name: 'web', spec: appSpec });
      expect(a.statusCode).toBe(201);
      expect(a.json()).toMatchObject({ name: 'web', project: 'acme-web', spec: appSpec });
      const entry = await t.db.query<{ namespace: string; payload: { spec: unknown } }>(
        "SELECT namespace, payload FROM outbox WHERE kind = 'App' AND name = 'web' ORDER BY id DESC LIMIT 1",
      );
      expect(entry.rows[0]?.namespace).toMatch(/^acme-acme-web-[0-9a-f]{8}$/);
      const project = await t.db.query<{ payload: { spec: { tenantRef: unknown } } }>(
        "SELECT payload FROM outbox WHERE kind = 'Project' AND name = 'acme-web'",
      );
      expect(project.rows[0]?.payload.spec.tenantRef).toEqual({ name: 'acme' });
    });

    it('keeps Helm values intact through the API', async () => {
      const spec = {
        source: {
          helm: { chart: 'nginx', repoURL: 'https://charts.example', values: { a: { b: [1, 'x'] } } },
        },
      };
      const a = await post('/v1/tenants/acme/projects/acme-web/apps', admin, { name: 'chart', spec });
      expect(a.statusCode).toBe(201);
      const got = await app.inject({ url: '/v1/tenants/acme/projects/acme-web/apps/chart', headers: admin });
      expect(got.json()).toMatchObject({ spec });
    });

    it('refuses to delete a tenant that still has projects', async () => {
      const res = await app.inject({ method: 'DELETE', url: '/v1/tenants/acme', headers: admin });
      expect(res.statusCode).toBe(409);
      expect(res.json()).toMatchObject({ code: 'KUBEOP_ERR_TENANT_NOT_EMPTY' });
    });
  });

  describe('JSON bodies', () => {
    it('an empty body sent as JSON is no body: a DELETE with the header is served', async () => {
      expect((await post('/v1/tenants', admin, { name: 'empty-body', spec: tenantSpec })).statusCode).toBe(
        201,
      );
      const res = await app.inject({
        method: 'DELETE',
        url: '/v1/tenants/empty-body',
        headers: { ...admin, 'content-type': 'application/json' },
        payload: '',
      });
      expect(res.statusCode, res.body).toBe(204);
    });

    it('a route that needs a body still refuses an empty one, and malformed JSON, with a problem', async () => {
      const empty = await app.inject({
        method: 'POST',
        url: '/v1/tenants',
        headers: { ...admin, 'content-type': 'application/json' },
        payload: '',
      });
      expect(empty.statusCode).toBe(400);
      expect(empty.headers['content-type']).toContain('application/problem+json');
      const bad = await app.inject({
        method: 'POST',
        url: '/v1/tenants',
        headers: { ...admin, 'content-type': 'application/json' },
        payload: '{"name":',
      });
      expect(bad.statusCode).toBe(400);
      expect(bad.json()).toMatchObject({ code: 'KUBEOP_ERR_INVALID_JSON' });
    });
  });

  describe('tokens and roles', () => {
    let tenantAdminA: Record<string, string>;
    let viewer: Record<string, string>;

    beforeAll(async () => {
      await post('/v1/tenants', admin, { name: 'globex', spec: tenantSpec });
      await post('/v1/tenants/globex/projects', admin, { name: 'globex-api', spec: {} });
      await post('/v1/tenants/globex/projects/globex-api/apps', admin, { name: 'api', spec: appSpec });
      const ta = await post('/v1/tokens', admin, {
        name: 'acme admin',
        role: 'tenant-admin',
        tenant: 'acme',
      });
      expect(ta.statusCode).toBe(201);
      tenantAdminA = bearer((ta.json() as { token: string }).token);
      const v = await post('/v1/tokens', tenantAdminA, {
        name: 'viewer',
        role: 'project-viewer',
        tenant: 'acme',
        project: 'acme-web',
      });
      expect(v.statusCode).toBe(201);
      viewer = bearer((v.json() as { token: string }).token);
    });

    it('shows a token once and stores only its hash', async () => {
      const res = await post('/v1/tokens', admin, { name: 'once', role: 'platform-admin' });
      const { token, id } = res.json() as { token: string; id: string };
      expect(token).toMatch(/^kop_/);
      const stored = await t.db.query<{ token_hash: Buffer }>(
        'SELECT token_hash FROM api_tokens WHERE id = $1',
        [id],
      );
      expect(Buffer.from(stored.rows[0]!.token_hash).toString('utf8')).not.toContain(token);
      const listed = await app.inject({ url: '/v1/tokens', headers: admin });
      expect(listed.body).not.toContain(token);
    });

    it("tenant A's token can neither read nor change anything of tenant B, on every endpoint", async () => {
      const snapshot = async () =>
        JSON.stringify(
          (
            await t.db.query(
              'SELECT name, spec, version FROM tenants UNION ALL SELECT name, spec, version FROM projects UNION ALL SELECT name, spec, version FROM apps UNION ALL SELECT name, labels, version FROM clusters ORDER BY 1',
            )
          ).rows,
        );
      const before = await snapshot();
      const attempts: Array<[string, string, unknown?]> = [
        ['GET', '/v1/tenants/globex'],
        ['PUT', '/v1/tenants/globex', { spec: tenantSpec }],
        ['DELETE', '/v1/tenants/globex'],
        ['GET', '/v1/tenants/globex/projects'],
        ['POST', '/v1/tenants/globex/projects', { name: 'evil', spec: {} }],
        ['GET', '/v1/tenants/globex/projects/globex-api'],
        ['PUT', '/v1/tenants/globex/projects/globex-api', { spec: {} }],
        ['DELETE', '/v1/tenants/globex/projects/globex-api'],
        ['GET', '/v1/tenants/globex/projects/globex-api/apps'],
        ['POST', '/v1/tenants/globex/projects/globex-api/apps', { name: 'evil', spec: appSpec }],
        ['GET', '/v1/tenants/globex/projects/globex-api/apps/api'],
        ['PUT', '/v1/tenants/globex/projects/globex-api/apps/api', { spec: appSpec }],
        ['DELETE', '/v1/tenants/globex/projects/globex-api/apps/api'],
        ['POST', '/v1/tokens', { name: 'x', role: 'tenant-admin', tenant: 'globex' }],
        ['POST', '/v1/tenants', { name: 'evil-tenant', spec: tenantSpec }],
        ['POST', '/v1/tenants/globex/projects/globex-api/kubeconfig', {}],
        ['POST', '/v1/tenants/globex/projects/globex-api/kubeconfig', { role: 'view' }],
        ['GET', '/v1/clusters'],
        ['POST', '/v1/clusters?check=false', { name: 'evil-cluster', kubeconfig: 'apiVersion: v1' }],
        ['GET', '/v1/clusters/default'],
        ['POST', '/v1/clusters/default/check'],
        ['DELETE', '/v1/clusters/default?force=true'],
      ];
      for (const [method, url, payload] of attempts) {
        const res = await app.inject({
          method: method as 'GET',
          url,
          headers: tenantAdminA,
          ...(payload ? { payload: payload as object } : {}),
        });
        expect([403, 404], `${method} ${url} → ${res.statusCode}`).toContain(res.statusCode);
        expect(res.body).not.toContain('globex-api"');
      }
      const list = await app.inject({ url: '/v1/tenants', headers: tenantAdminA });
      expect((list.json() as { items: Array<{ name: string }> }).items.map((i) => i.name)).toEqual(['acme']);
      expect(await snapshot()).toBe(before);
    });

    it('a member kubeconfig never exceeds the caller’s own role', async () => {
      const admin = await post('/v1/tenants/acme/projects/acme-web/kubeconfig', viewer, { role: 'admin' });
      expect(admin.statusCode).toBe(403);
      expect(admin.json()).toMatchObject({ code: 'KUBEOP_ERR_FORBIDDEN' });
      // Its own role passes authorization and stops at placement: no cluster is registered here.
      const own = await post('/v1/tenants/acme/projects/acme-web/kubeconfig', viewer, { role: 'view' });
      expect(own.json()).toMatchObject({ code: 'KUBEOP_ERR_PROJECT_NOT_PLACED' });
    });

    it('clusters are for platform admins only', async () => {
      for (const headers of [tenantAdminA, viewer]) {
        const res = await app.inject({ url: '/v1/clusters', headers });
        expect(res.statusCode).toBe(403);
      }
      expect((await app.inject({ url: '/v1/clusters', headers: admin })).statusCode).toBe(200);
    });

    it('a project viewer reads its project and apps but changes nothing', async () => {
      expect(
        (await app.inject({ url: '/v1/tenants/acme/projects/acme-web/apps', headers: viewer })).statusCode,
      ).toBe(200);
      const write = await app.inject({
        method: 'PUT',
        url: '/v1/tenants/acme/projects/acme-web/apps/web',
        headers: viewer,
        payload: { spec: appSpec },
      });
      expect(write.statusCode).toBe(403);
      expect(write.json()).toMatchObject({ code: 'KUBEOP_ERR_FORBIDDEN' });
      expect((await app.inject({ url: '/v1/tenants/acme', headers: viewer })).statusCode).toBe(404);
    });

    it('stores no API token in clear anywhere in the database', async () => {
      const tokens = [tenantAdminA, viewer, admin].map((h) => h.authorization!.replace('Bearer ', ''));
      expect(await findPlaintext(t.db, tokens)).toEqual([]);
    });

    it('a revoked token stops working at once', async () => {
      const res = await post('/v1/tokens', admin, {
        name: 'short-lived',
        role: 'tenant-admin',
        tenant: 'acme',
      });
      const { token, id } = res.json() as { token: string; id: string };
      expect((await app.inject({ url: '/v1/tenants/acme', headers: bearer(token) })).statusCode).toBe(200);
      expect(
        (await app.inject({ method: 'DELETE', url: `/v1/tokens/${id}`, headers: admin })).statusCode,
      ).toBe(204);
      expect((await app.inject({ url: '/v1/tenants/acme', headers: bearer(token) })).statusCode).toBe(401);
    });

    it('a tenant admin sees only its own tenant in the audit log', async () => {
      const res = await app.inject({ url: '/v1/audit?limit=500', headers: tenantAdminA });
      expect(res.statusCode).toBe(200);
      const items = (
        res.json() as { items: Array<{ resourceName: string; actor: string; requestId: string }> }
      ).items;
      expect(items.length).toBeGreaterThan(0);
      expect(items.some((i) => i.resourceName.includes('globex'))).toBe(false);
      expect(items.every((i) => i.actor.startsWith('token:') && i.requestId)).toBe(true);
      // Newest first by number, not by text ("10" sorts before "9" as text).
      const all = await app.inject({ url: '/v1/audit?limit=500', headers: admin });
      const ids = (all.json() as { items: Array<{ id: string }> }).items.map((i) => Number(i.id));
      expect(ids.length).toBeGreaterThan(10);
      expect(ids).toEqual([...ids].sort((a, b) => b - a));
      expect((await app.inject({ url: '/v1/audit', headers: viewer })).statusCode).toBe(403);
    });
  });

  describe('deletion', () => {
    it('deleting a project removes its apps and queues the deletion for the cluster', async () => {
      await post('/v1/tenants', admin, { name: 'temp', spec: tenantSpec });
      await post('/v1/tenants/temp/projects', admin, { name: 'temp-p', spec: {} });
      await post('/v1/tenants/temp/projects/temp-p/apps', admin, { name: 'a1', spec: appSpec });
      const res = await app.inject({
        method: 'DELETE',
        url: '/v1/tenants/temp/projects/temp-p',
        headers: admin,
      });
      expect(res.statusCode).toBe(204);
      expect(await count("SELECT count(*)::int AS n FROM apps WHERE name = 'a1'")).toBe(0);
      expect(
        await count(
          "SELECT count(*)::int AS n FROM outbox WHERE kind = 'Project' AND name = 'temp-p' AND operation = 'delete'",
        ),
      ).toBe(1);
      expect(
        (await app.inject({ method: 'DELETE', url: '/v1/tenants/temp', headers: admin })).statusCode,
      ).toBe(204);
      expect((await app.inject({ url: '/v1/tenants/temp', headers: admin })).statusCode).toBe(404);
    });
  });

  it('serves an OpenAPI 3.1 document that validates', async () => {
    const res = await app.inject('/openapi.json');
    expect(res.statusCode).toBe(200);
    const doc = res.json() as { openapi: string; paths: Record<string, unknown> };
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        '/v1/tenants',
        '/v1/tenants/{tenant}/projects/{project}/apps/{app}',
        '/v1/tokens',
        '/v1/audit',
      ]),
    );
    const result = await new Validator().validate(doc as never);
    expect(result.errors ?? [], JSON.stringify(result.errors ?? []).slice(0, 2000)).toEqual([]);
    expect(result.valid).toBe(true);
  });
});

describe('rate limits', () => {
  it('answer 429 as a problem once a token exceeds its budget', async () => {
    const t = await drivers[1]!.open();
    const { app, adminToken } = await managerApi(t.db, { rateLimitPerMinute: 3 });
    try {
      const codes: number[] = [];
      for (let i = 0; i < 5; i++)
        codes.push((await app.inject({ url: '/v1/tenants', headers: bearer(adminToken) })).statusCode);
      expect(codes).toEqual([200, 200, 200, 429, 429]);
      const res = await app.inject({ url: '/v1/tenants', headers: bearer(adminToken) });
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(res.json()).toMatchObject({ status: 429, code: 'KUBEOP_ERR_RATE_LIMITED' });
    } finally {
      await app.close();
      await t.drop();
    }
  });
});
