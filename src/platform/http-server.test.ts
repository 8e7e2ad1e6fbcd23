import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { HealthChecks } from './health.ts';
import { createServiceServer } from './http-server.ts';
import { createLogger } from './logging.ts';
import { createServiceMetrics } from './metrics.ts';
import { ApiError } from './problem.ts';

function build() {
  const lines: Array<Record<string, unknown>> = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  });
  const logger = createLogger({ service: 'test', level: 'info', destination });
  const health = new HealthChecks(200);
  const metrics = createServiceMetrics();
  const app = createServiceServer({
    logger,
    health,
    metrics,
    version: { service: 'test', version: '1.2.3', gitCommit: 'abc', buildDate: '2026-01-01T00:00:00Z' },
  });
  return { app, health, lines };
}

let app: FastifyInstance | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

describe('service endpoints', () => {
  it('/healthz answers 200 with the liveness report', async () => {
    const s = build();
    app = s.app;
    const res = await app.inject('/healthz');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ status: 'ok', checks: {}, failing: [], degraded: [] });
  });

  it('/readyz answers 503 naming the failing dependency', async () => {
    const s = build();
    app = s.app;
    s.health.addReadiness('database', () => {
      throw new Error('connection refused');
    });
    s.health.addReadiness('certificate', () => {});
    const res = await app.inject('/readyz');
    expect(res.statusCode).toBe(503);
    expect(res.json()).toMatchObject({
      status: 'failing',
      failing: ['database'],
      checks: { database: { status: 'failing', error: 'connection refused' }, certificate: { status: 'ok' } },
    });
  });

  it('/readyz answers 200 once every dependency passes', async () => {
    const s = build();
    app = s.app;
    let up = false;
    s.health.addReadiness('database', () => {
      if (!up) throw new Error('not yet');
    });
    expect((await app.inject('/readyz')).statusCode).toBe(503);
    up = true;
    expect((await app.inject('/readyz')).statusCode).toBe(200);
  });

  it('/readyz answers 200 while only a degrading check fails, naming it and why', async () => {
    const s = build();
    app = s.app;
    s.health.addReadiness('database', () => {});
    s.health.addReadiness(
      'operator-leadership',
      () => {
        throw new Error('not leading: lost the lease; campaigning again');
      },
      { degrades: true },
    );
    const res = await app.inject('/readyz');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({
      status: 'degraded',
      failing: [],
      degraded: ['operator-leadership'],
      checks: { 'operator-leadership': { status: 'degraded', error: expect.stringMatching(/not leading/) } },
    });
  });

  it('/version returns service, version, commit and build date', async () => {
    const s = build();
    app = s.app;
    const res = await app.inject('/version');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      service: 'test',
      version: '1.2.3',
      gitCommit: 'abc',
      buildDate: '2026-01-01T00:00:00Z',
    });
  });

  it('/metrics exposes runtime metrics and the request histogram labelled by route template', async () => {
    const s = build();
    app = s.app;
    app.get('/things/:id', async () => ({ ok: true }));
    await app.inject('/things/123');
    await app.inject('/things/456');
    await app.inject('/no/such/path/zzqqxx');
    const res = await app.inject('/metrics');
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = res.body;
    expect(text).toContain('process_cpu_seconds_total');
    expect(text).toContain('nodejs_eventloop_lag_seconds');
    expect(text).toContain(
      'kubeop_http_request_duration_seconds_count{route="/things/:id",method="GET",status_class="2xx"} 2',
    );
    expect(text).toContain(
      'kubeop_http_request_duration_seconds_count{route="unmatched",method="GET",status_class="4xx"} 1',
    );
    expect(text).not.toContain('route="/things/123"');
    expect(text).not.toContain('zzqqxx');
  });
});

describe('request ids and logs', () => {
  it('puts one request id on every log line of a request and returns it', async () => {
    const s = build();
    app = s.app;
    app.get('/work', async (req) => {
      req.log.info('doing work');
      return { ok: true };
    });
    const res = await app.inject('/work');
    const id = res.headers['x-request-id'];
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    const lines = s.lines.filter((l) => l.requestId !== undefined);
    expect(lines.map((l) => l.msg)).toEqual(['incoming request', 'doing work', 'request completed']);
    expect(new Set(lines.map((l) => l.requestId))).toEqual(new Set([id]));
    expect(lines.every((l) => l.service === 'test' && typeof l.level === 'string')).toBe(true);
  });

  it('keeps a well-formed caller request id and replaces a malformed one', async () => {
    const s = build();
    app = s.app;
    const kept = await app.inject({ url: '/version', headers: { 'x-request-id': 'abc-123' } });
    expect(kept.headers['x-request-id']).toBe('abc-123');
    const replaced = await app.inject({
      url: '/version',
      headers: { 'x-request-id': 'bad id\twith spaces' },
    });
    expect(replaced.headers['x-request-id']).not.toBe('bad id\twith spaces');
  });

  it('does not log probe requests', async () => {
    const s = build();
    app = s.app;
    await app.inject('/healthz');
    await app.inject('/metrics');
    expect(s.lines.filter((l) => l.msg === 'incoming request')).toEqual([]);
  });

  it('redacts the authorization header from logs', async () => {
    const s = build();
    app = s.app;
    app.get('/echo', async (req) => {
      req.log.info({ req: { headers: req.headers } }, 'headers');
      return {};
    });
    await app.inject({ url: '/echo', headers: { authorization: 'Bearer s3cret-token' } });
    expect(JSON.stringify(s.lines)).not.toContain('s3cret-token');
  });
});

describe('problem responses', () => {
  it('answers an unknown route with a problem+json 404 and a stable code', async () => {
    const s = build();
    app = s.app;
    const res = await app.inject('/nope?x=1');
    expect(res.statusCode).toBe(404);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.json()).toMatchObject({
      status: 404,
      code: 'KUBEOP_ERR_ROUTE_NOT_FOUND',
      detail: 'no route for GET /nope',
    });
  });

  it('maps an ApiError to its status and code', async () => {
    const s = build();
    app = s.app;
    app.get('/t', async () => {
      throw new ApiError(404, 'KUBEOP_ERR_TENANT_NOT_FOUND', 'tenant "acme" not found');
    });
    const res = await app.inject('/t');
    expect(res.statusCode).toBe(404);
    expect(res.json()).toMatchObject({
      code: 'KUBEOP_ERR_TENANT_NOT_FOUND',
      detail: 'tenant "acme" not found',
    });
  });

  it('hides the internals of an unexpected error behind a 500 with the request id', async () => {
    const s = build();
    app = s.app;
    app.get('/boom', async () => {
      throw new Error('password=hunter2 at db.internal:5432');
    });
    const res = await app.inject('/boom');
    expect(res.statusCode).toBe(500);
    expect(res.body).not.toContain('hunter2');
    expect(res.json()).toMatchObject({ code: 'KUBEOP_ERR_INTERNAL', requestId: res.headers['x-request-id'] });
  });

  it('answers malformed JSON with a 400 problem, not a 500', async () => {
    const s = build();
    app = s.app;
    app.post('/things', async () => ({}));
    const res = await app.inject({
      method: 'POST',
      url: '/things',
      headers: { 'content-type': 'application/json' },
      payload: '{"broken":',
    });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ status: 400, code: 'KUBEOP_ERR_INVALID_JSON' });
  });

  it('answers schema validation failures with the failing paths', async () => {
    const s = build();
    app = s.app;
    app.post(
      '/things',
      { schema: { body: { type: 'object', required: ['name'], properties: { name: { type: 'string' } } } } },
      async () => ({}),
    );
    const res = await app.inject({ method: 'POST', url: '/things', payload: { nope: 1 } });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ code: 'KUBEOP_ERR_VALIDATION', errors: [{ path: '/' }] });
  });
});
