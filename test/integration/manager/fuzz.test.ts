import { writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance, InjectOptions } from 'fastify';
import fc from 'fast-check';
import type { Database } from '../../../src/db/database.ts';
import { drivers, type TestDatabase } from '../../support/databases.ts';
import { bearer, managerApi } from '../../support/manager.ts';

/**
 * Fuzzes every endpoint the API documents in /openapi.json with malformed input — wrong types, huge
 * and unicode strings, nested junk, invalid JSON, wrong content types, hostile path parameters,
 * invalid cursors, bad If-Match and Idempotency-Key — with a platform-admin token and with none.
 * Contract: never a 5xx; every error is application/problem+json with a KUBEOP_ERR_* code; no
 * malformed request succeeds in changing anything; and the database is byte-for-byte unchanged.
 *
 * The snapshot covers every table and column except api_tokens.last_used_at, which records that the
 * admin token was used (by design, at most once a minute). Refused requests write no audit entry:
 * the audit log records mutations that happened, and none may happen here, so audit_log is compared
 * like every other table. Generation is seeded (fast-check `sample`) so a failure replays exactly.
 */

const SEED = 20261126;
const RANDOM_BODIES = 12;

interface Operation {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE' | 'PATCH';
  path: string;
  pathParams: string[];
  queryParams: string[];
  hasBody: boolean;
  /** Documents 412, i.e. honours If-Match. */
  conditional: boolean;
}

interface Case {
  what: string;
  url: string;
  headers: Record<string, string>;
  payload?: string | Buffer;
}

const tenantSpec = { owners: [{ kind: 'User', name: 'alice' }] };
const appSpec = { source: { image: { ref: 'nginx:1.27' } } };

/** Seeded names, so that a request with only one malformed part reaches the handler. */
const seedValues: Record<string, string> = { tenant: 'acme', project: 'web', app: 'site', cluster: 'c1' };

const hostilePathValues = [
  '..',
  '..%2F..%2Fetc%2Fpasswd',
  '%2e%2e%2f',
  '%00',
  'acme%00',
  'a'.repeat(64),
  'a'.repeat(4000),
  '%C3%BC%C3%B1%C3%AF',
  '%F0%9F%92%A5',
  '%E2%80%AE',
  '%E0%A4%A',
  '%',
  '%ZZ',
  'A%20B',
  'ACME',
  '-1',
  '1e309',
  'null',
  '00000000-0000-0000-0000-000000000000',
  '%7B%22%24ne%22%3A1%7D',
  "acme'%20OR%20'1'%3D'1",
];

const b64 = (s: string) => Buffer.from(s).toString('base64url');
const hostileQueries = [
  'limit=abc',
  'limit=-1',
  'limit=0',
  'limit=501',
  'limit=1.5',
  'limit=',
  'limit=99999999999999999999',
  'limit=1&limit=2',
  'cursor=!!!',
  'cursor=%00',
  `cursor=${b64('\u0000')}`,
  `cursor=${b64('acme\u0000zz')}`,
  `cursor=${b64('\uffff\ud7ff')}`,
  `cursor=${Buffer.from([0xff, 0xfe, 0xc3]).toString('base64url')}`,
  `cursor=${'x'.repeat(513)}`,
  `cursor=${b64('z'.repeat(380))}`,
  'cursor=%ZZ',
  'cursor[]=a',
  'before=abc',
  'before=-1',
  'before=99999999999999999999999999',
  'before=9223372036854775808',
  `actor=${'a'.repeat(200)}`,
  'resourceType=%00',
  'actor=%F0%9F%92%A5',
  `unknown=${'q'.repeat(1000)}`,
];

const badIfMatch = ['garbage', 'W/"1"', '"abc"', '""', '"-1"', '"99999999999999999999999"', '"1", "2"', '"1'];
const badIdempotencyKeys = ['', 'k'.repeat(256), 'k'.repeat(9000)];
const badAuthorization = [
  'Bearer',
  'Bearer ' + 'x'.repeat(9000),
  'Basic YWRtaW46YWRtaW4=',
  'Bearer kop_' + '!'.repeat(43),
  'Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJyb290In0.',
  'bearer  kop_ kop_',
];

const invalidJson = [
  '{',
  '{"name":',
  'nul',
  '[1,2',
  '"open',
  '{"a":1}}',
  '\ufeff{}',
  '\u0000',
  '{"name":"x",}',
  'NaN',
];
const deepObject = (depth: number): object => (depth === 0 ? {} : { a: deepObject(depth - 1) });
const wrongTypes: unknown[] = [
  {},
  [],
  'string',
  42,
  true,
  null,
  { name: 123, spec: 'x' },
  { name: null, spec: null },
  { name: ['a'], spec: [] },
  { name: {}, spec: { owners: 'alice' } },
  { name: 'ok', spec: tenantSpec, extra: 1 },
  { name: 'a'.repeat(100_000), spec: tenantSpec },
  { name: 'ünï', spec: tenantSpec },
  { name: '💥', spec: tenantSpec },
  { name: 'a\u0000b', spec: tenantSpec },
  { name: '\u202eevil', spec: tenantSpec },
  { name: '../etc', spec: tenantSpec },
  { name: 'ok', spec: { owners: [tenantSpec.owners[0], tenantSpec.owners[0]] } },
  { name: 'ok', spec: { ...appSpec, replicas: 'many' } },
  { name: 'ok', spec: { source: { image: { ref: 'a' }, raw: { manifests: [{}] } } } },
  { name: 'ok', spec: { quota: { cpu: 'lots' }, members: [{ kind: 'Robot', name: 'x', role: 'god' }] } },
  { name: 'ok', role: 'root' },
  { name: 'ok', role: 'tenant-admin', tenant: '../x', expiresInSeconds: -1 },
  { name: 'ok', role: 'platform-admin', expiresInSeconds: 1e100 },
  { name: 'ok', kubeconfig: { not: 'a kubeconfig' } },
  { spec: { owners: [{ kind: 'User', name: 'x'.repeat(10_000) }] } },
  // NUL characters, which PostgreSQL text and jsonb cannot hold, in places the schema leaves free.
  { name: 'nul-values', spec: { source: { helm: { chart: 'web', values: { k: 'a\u0000b' } } } } },
  { name: 'nul-key', spec: { source: { helm: { chart: 'web', values: { 'a\u0000': 1 } } } } },
  { name: 'nul-env', spec: { ...appSpec, env: [{ name: 'A', value: '\u0000' }] } },
  { name: 'nul-owner', spec: { owners: [{ kind: 'User', name: 'bob\u0000' }] } },
  { name: 'nul-token\u0000', role: 'platform-admin' },
  { name: 'deep-values', spec: { source: { helm: { chart: 'web', values: deepObject(300) } } } },
];
const protoPollution = [
  '{"__proto__":{"polluted":true},"name":"p1","spec":{}}',
  '{"constructor":{"prototype":{"polluted":true}},"name":"p2"}',
  '{"name":"p3","spec":{"__proto__":{"owners":[]}}}',
];
const nested = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);
const nestedObject = (depth: number) => '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);

function operations(doc: {
  paths: Record<
    string,
    Record<
      string,
      {
        parameters?: Array<{ in: string; name: string }>;
        requestBody?: unknown;
        responses?: Record<string, unknown>;
      }
    >
  >;
}): Operation[] {
  const ops: Operation[] = [];
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(item)) {
      if (!['get', 'post', 'put', 'delete', 'patch'].includes(method)) continue;
      const params = op.parameters ?? [];
      ops.push({
        method: method.toUpperCase() as Operation['method'],
        path,
        pathParams: params.filter((p) => p.in === 'path').map((p) => p.name),
        queryParams: params.filter((p) => p.in === 'query').map((p) => p.name),
        hasBody: op.requestBody !== undefined,
        conditional: Object.keys(op.responses ?? {}).includes('412'),
      });
    }
  }
  return ops;
}

function cases(op: Operation, seeds: Record<string, string>): Case[] {
  const url = (override: Record<string, string> = {}, query = '') =>
    op.path.replace(
      /\{(\w+)\}/g,
      (_m, name: string) => override[name] ?? encodeURIComponent(seeds[name] ?? 'x'),
    ) + (query ? `?${query}` : '');
  const mutating = op.method !== 'GET';
  // A mutating request whose only malformed part is elsewhere still must not change anything: it
  // carries an If-Match no object has, so a request that slipped through would get 412, not apply.
  const guard: Record<string, string> = mutating ? { 'if-match': '"424242"' } : {};
  const json = { 'content-type': 'application/json' };
  // For POST the body itself is malformed unless the case is about something else and the path is bad.
  const baseBody =
    op.method === 'POST'
      ? JSON.stringify({ name: 'Bad Name!', spec: 42 })
      : JSON.stringify({ spec: tenantSpec });
  const withBody = (c: Omit<Case, 'payload'>): Case =>
    op.hasBody ? { ...c, headers: { ...json, ...c.headers }, payload: baseBody } : c;
  const out: Case[] = [];

  for (const p of op.pathParams) {
    for (const v of hostilePathValues) {
      out.push(
        op.hasBody
          ? {
              what: `path ${p}=${v.slice(0, 40)}`,
              url: url({ [p]: v }),
              headers: { ...json, ...guard },
              payload: JSON.stringify({ name: 'valid-name', spec: tenantSpec }),
            }
          : { what: `path ${p}=${v.slice(0, 40)}`, url: url({ [p]: v }), headers: guard },
      );
    }
  }
  if (op.queryParams.length || op.method === 'GET') {
    for (const q of hostileQueries)
      out.push(withBody({ what: `query ${q.slice(0, 60)}`, url: url({}, q), headers: guard }));
  }
  // If-Match is a contract of the routes that document 412; the others (token revocation) ignore it.
  if (op.conditional) {
    for (const v of badIfMatch) {
      out.push(withBody({ what: `If-Match ${v}`, url: url(), headers: { 'if-match': v } }));
    }
  }
  if (op.method === 'POST') {
    for (const v of badIdempotencyKeys) {
      out.push(
        withBody({ what: `Idempotency-Key of ${v.length}`, url: url(), headers: { 'idempotency-key': v } }),
      );
    }
  }
  for (const v of badAuthorization) {
    out.push(
      withBody({
        what: `Authorization ${v.slice(0, 30)}`,
        url: url(),
        headers: { ...guard, authorization: v },
      }),
    );
  }
  if (op.hasBody) {
    const body = (what: string, payload: string | Buffer, headers: Record<string, string> = json) =>
      out.push({ what, url: url(), headers: { ...guard, ...headers }, payload });
    for (const text of invalidJson) body(`invalid JSON ${JSON.stringify(text)}`, text);
    for (const v of wrongTypes) body(`body ${JSON.stringify(v).slice(0, 60)}`, JSON.stringify(v));
    for (const text of protoPollution) body(`body ${text.slice(0, 40)}`, text);
    body('nested arrays', nested(5000));
    body('nested objects', nestedObject(2000));
    body('body over the size limit', JSON.stringify({ name: 'big', spec: { blob: 'x'.repeat(1_100_000) } }));
    body('empty JSON body', '');
    body('invalid UTF-8', Buffer.from([0x7b, 0x22, 0x6e, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d]));
    for (const ct of [
      'text/plain',
      'application/xml',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
      'application/json-patch+json',
      'application/jsonx',
      '',
    ]) {
      body(
        `content-type ${ct || '(none)'}`,
        JSON.stringify({ name: 'ct-test', spec: tenantSpec }),
        ct ? { 'content-type': ct } : {},
      );
    }
    const random = fc.sample(fc.jsonValue({ maxDepth: 4 }), { seed: SEED, numRuns: RANDOM_BODIES });
    random.forEach((v, i) => body(`random JSON #${i}`, JSON.stringify(v) ?? 'null'));
    const fields = fc.sample(
      fc.record({
        name: fc.oneof(fc.string({ unit: 'grapheme', maxLength: 80 }), fc.jsonValue({ maxDepth: 2 })),
        spec: fc.dictionary(fc.string({ maxLength: 12 }), fc.jsonValue({ maxDepth: 3 }), { minKeys: 1 }),
      }),
      { seed: SEED + 1, numRuns: RANDOM_BODIES },
    );
    fields.forEach((v, i) => body(`random fields #${i}`, JSON.stringify(v)));
  }
  return out;
}

async function snapshot(db: Database): Promise<Record<string, unknown[]>> {
  const tables = await db.query<{ name: string }>(
    "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY table_name",
  );
  const out: Record<string, unknown[]> = {};
  for (const { name } of tables.rows) {
    const { rows } = await db.query<Record<string, unknown>>(`SELECT * FROM "${name}"`);
    out[name] = rows
      .map((r) => {
        if (name === 'api_tokens') delete r.last_used_at;
        return JSON.stringify(r, (_k, v: unknown) =>
          Buffer.isBuffer(v) ? v.toString('hex') : typeof v === 'bigint' ? String(v) : v,
        );
      })
      .sort();
  }
  return out;
}

describe.each(drivers)('fuzzing every endpoint on $name', ({ open }) => {
  let t: TestDatabase;
  let app: FastifyInstance;
  let admin: Record<string, string>;
  let ops: Operation[];
  const seeds = { ...seedValues };

  beforeAll(async () => {
    t = await open();
    const m = await managerApi(t.db);
    app = m.app;
    admin = bearer(m.adminToken);
    const setup: InjectOptions[] = [
      { method: 'POST', url: '/v1/tenants', payload: { name: 'acme', spec: tenantSpec } },
      { method: 'POST', url: '/v1/tenants/acme/projects', payload: { name: 'web', spec: {} } },
      { method: 'POST', url: '/v1/tenants/acme/projects/web/apps', payload: { name: 'site', spec: appSpec } },
      {
        method: 'POST',
        url: '/v1/tokens',
        payload: { name: 'fuzz', role: 'project-viewer', tenant: 'acme', project: 'web' },
      },
    ];
    for (const req of setup) {
      const res = await app.inject({ ...req, headers: admin });
      expect(res.statusCode, res.body).toBe(201);
      if (req.url === '/v1/tokens') seeds.id = (res.json() as { id: string }).id;
    }
    ops = operations((await app.inject('/openapi.json')).json());
  });
  afterAll(async () => {
    await app.close();
    await t.drop();
  });

  it('finds every route in /openapi.json', () => {
    const names = ops.map((o) => `${o.method} ${o.path}`);
    expect(names).toEqual(
      expect.arrayContaining([
        'GET /v1/tenants',
        'POST /v1/tenants',
        'PUT /v1/tenants/{tenant}',
        'DELETE /v1/tenants/{tenant}/projects/{project}',
        'POST /v1/tenants/{tenant}/projects/{project}/apps',
        'DELETE /v1/tokens/{id}',
        'GET /v1/audit',
      ]),
    );
  });

  // The 5xx the fuzzing found, each pinned to the answer it gets now.
  it.each([
    ['GET', '/v1/tenants?cursor=AA', undefined, 400, 'KUBEOP_ERR_INVALID_CURSOR'],
    ['GET', '/v1/tenants/acme/projects?cursor=!!!', undefined, 400, 'KUBEOP_ERR_INVALID_CURSOR'],
    ['GET', '/v1/tenants/acme%00', undefined, 400, 'KUBEOP_ERR_VALIDATION'],
    ['GET', '/v1/audit?resourceType=%00', undefined, 400, 'KUBEOP_ERR_VALIDATION'],
    ['GET', '/v1/audit?before=99999999999999999999999', undefined, 400, 'KUBEOP_ERR_VALIDATION'],
    ['GET', '/v1/tenants/%E0%A4%A', undefined, 400, 'KUBEOP_ERR_BAD_URL'],
    ['GET', `/v1/tenants/${'a'.repeat(200)}`, undefined, 414, 'KUBEOP_ERR_URI_TOO_LONG'],
    [
      'POST',
      '/v1/tenants/acme/projects/web/apps',
      { name: 'nul', spec: { source: { helm: { chart: 'oci://r/web', values: { k: 'a\u0000' } } } } },
      400,
      'KUBEOP_ERR_VALIDATION',
    ],
    ['POST', '/v1/tenants', nested(5000), 400, 'KUBEOP_ERR_VALIDATION'],
  ] as const)('%s %s → %i %s', async (method, url, payload, status, code) => {
    const headers = { ...admin, 'content-type': 'application/json' };
    const res = await app.inject({
      method,
      url,
      headers,
      ...(payload ? { payload: typeof payload === 'string' ? payload : JSON.stringify(payload) } : {}),
    });
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect({ status: res.statusCode, code: (res.json() as { code: string }).code }).toEqual({ status, code });
  });

  it('answers malformed input with a 4xx problem, never a 5xx, and changes nothing', async () => {
    const before = await snapshot(t.db);
    // The snapshot is only worth comparing if it holds the seeded rows.
    expect([before.tenants, before.projects, before.apps, before.outbox].map((rows) => rows?.length)).toEqual(
      [1, 1, 1, 3],
    );
    const failures: string[] = [];
    let sent = 0;
    for (const op of ops) {
      for (const c of cases(op, seeds)) {
        for (const [who, auth] of [
          ['admin', admin],
          ['anonymous', {}],
        ] as const) {
          const headers = { ...auth, ...c.headers };
          if (headers['content-type'] === '') delete headers['content-type'];
          let res;
          try {
            res = await app.inject({
              method: op.method,
              url: c.url,
              headers,
              ...(c.payload !== undefined ? { payload: c.payload } : {}),
            });
          } catch (err) {
            failures.push(
              `${op.method} ${op.path} ${c.what} (${who}): inject threw ${(err as Error).message}`,
            );
            continue;
          }
          sent++;
          const where = `${op.method} ${op.path} ${c.what} (${who}) → ${res.statusCode}`;
          if (res.statusCode >= 500) {
            failures.push(`${where}: ${res.body.slice(0, 200)}`);
          } else if (res.statusCode < 400) {
            if (op.method !== 'GET') failures.push(`${where}: a malformed request succeeded`);
          } else if (!String(res.headers['content-type']).startsWith('application/problem+json')) {
            failures.push(`${where}: content-type ${res.headers['content-type']}`);
          } else {
            const body = res.json() as { code?: string; status?: number };
            if (!/^KUBEOP_ERR_[A-Z0-9_]+$/.test(body.code ?? '') || body.status !== res.statusCode)
              failures.push(`${where}: problem ${res.body.slice(0, 200)}`);
          }
        }
      }
    }
    // KUBEOP_FUZZ_REPORT=<file> keeps every failure (the assertion below shows only the first ones).
    if (process.env.KUBEOP_FUZZ_REPORT)
      writeFileSync(process.env.KUBEOP_FUZZ_REPORT, [`${sent} requests`, ...failures].join('\n'));
    expect(failures).toEqual([]);
    expect(sent).toBeGreaterThan(1000);
    expect(await snapshot(t.db)).toEqual(before);
  }, 600_000);
});
