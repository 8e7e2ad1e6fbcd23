import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { drivers, type TestDatabase } from '../../support/databases.ts';
import { bearer, managerApi } from '../../support/manager.ts';
import { crdDefinitions } from '../../../src/schemas/crds/definitions.ts';

const owner = { kind: 'User', name: 'alice' };
const image = { source: { image: { ref: 'nginx:1.27' } } };
const negative = 'must not be negative: quotas, limits and requests are amounts of 0 or more';
const tooLarge =
  'must be at most 9223372036854775807m (about 9.2e15 units): Kubernetes counts resources in int64 milli-units';

/** The API refuses what the CRDs' CEL rules refuse, before a row or an outbox entry is written. */
describe.each(drivers)('CEL rules enforced by the manager API on $name', ({ open }) => {
  let t: TestDatabase;
  let app: FastifyInstance;
  let admin: Record<string, string>;

  beforeAll(async () => {
    t = await open();
    const m = await managerApi(t.db);
    app = m.app;
    admin = bearer(m.adminToken);
    for (const [url, payload] of [
      ['/v1/tenants', { name: 'acme', spec: { owners: [owner] } }],
      ['/v1/tenants/acme/projects', { name: 'web', spec: {} }],
      ['/v1/tenants/acme/projects/web/apps', { name: 'site', spec: image }],
    ] as const) {
      expect((await app.inject({ method: 'POST', url, headers: admin, payload })).statusCode).toBe(201);
    }
  });
  afterAll(async () => {
    await app.close();
    await t.drop();
  });

  const rows = async () =>
    (
      await t.db.query<{ n: number }>(
        'SELECT (SELECT count(*) FROM tenants) + (SELECT count(*) FROM projects) + (SELECT count(*) FROM apps) + (SELECT count(*) FROM outbox) AS n',
      )
    ).rows[0]!.n;

  it.each([
    [
      'POST',
      '/v1/tenants',
      { name: 'dup', spec: { owners: [owner, owner] } },
      { path: '/spec/owners', message: 'owners must not list the same user or group twice' },
    ],
    [
      'POST',
      '/v1/tenants',
      { name: 'cidr', spec: { owners: [owner], policy: { egressCIDRs: ['10.0.0.0/40'] } } },
      {
        path: '/spec/policy/egressCIDRs',
        message: 'every egressCIDRs entry must be a CIDR such as 10.0.0.0/8',
      },
    ],
    [
      'POST',
      '/v1/tenants/acme/projects',
      {
        name: 'twice',
        spec: {
          members: [
            { kind: 'User', name: 'bob', role: 'edit' },
            { kind: 'User', name: 'bob', role: 'view' },
          ],
        },
      },
      { path: '/spec/members', message: 'members must not list the same user or group twice' },
    ],
    [
      'PUT',
      '/v1/tenants/acme/projects/web',
      { spec: { limits: { default: { memory: '2Gi' }, max: { memory: '1Gi' } } } },
      { path: '/spec/limits', message: 'limits.default must not exceed limits.max' },
    ],
    [
      'POST',
      '/v1/tenants/acme/projects/web/apps',
      { name: 'two', spec: { source: { ...image.source, helm: { chart: 'web' } } } },
      {
        path: '/spec/source',
        message: 'set exactly one of source.image, source.git, source.helm and source.raw',
      },
    ],
    [
      'PUT',
      '/v1/tenants/acme/projects/web/apps/site',
      { spec: { ...image, autoscaling: { minReplicas: 4, maxReplicas: 2 } } },
      { path: '/spec/autoscaling', message: 'autoscaling.minReplicas must not exceed maxReplicas' },
    ],
    [
      'PUT',
      '/v1/tenants/acme/projects/web/apps/site',
      { spec: { ...image, resources: { limits: { cpu: 'lots' } } } },
      { path: '/spec/resources/limits/cpu', message: 'must be a Kubernetes quantity such as 500m, 2 or 4Gi' },
    ],
    [
      'POST',
      '/v1/tenants',
      { name: 'negative', spec: { owners: [owner], quota: { cpu: '-16' } } },
      { path: '/spec/quota/cpu', message: negative },
    ],
    [
      'PUT',
      '/v1/tenants/acme/projects/web',
      { spec: { quota: { memory: '1e30' } } },
      { path: '/spec/quota/memory', message: tooLarge },
    ],
    [
      'PUT',
      '/v1/tenants/acme/projects/web',
      { spec: { limits: { max: { cpu: '-1' } } } },
      { path: '/spec/limits/max/cpu', message: negative },
    ],
    [
      'PUT',
      '/v1/tenants/acme/projects/web/apps/site',
      { spec: { ...image, resources: { requests: { memory: '9223372036854775808' } } } },
      { path: '/spec/resources/requests/memory', message: tooLarge },
    ],
  ] as const)(
    '%s %s refuses a spec breaking a rule with a 400 naming it, storing nothing',
    async (method, url, payload, error) => {
      const before = await rows();
      const res = await app.inject({ method, url, headers: admin, payload });
      expect(res.statusCode).toBe(400);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      const body = res.json() as { code: string; detail: string; errors: unknown[] };
      expect(body.code).toBe('KUBEOP_ERR_VALIDATION');
      expect(body.errors).toContainEqual(error);
      expect(body.detail).toContain(error.message);
      expect(await rows()).toBe(before);
    },
  );

  it.each([
    ['POST', '/v1/tenants', { name: 'huge', spec: { owners: [owner], quota: { pods: 1e30 } } }, 'pods'],
    [
      'POST',
      '/v1/tenants',
      { name: 'minus', spec: { owners: [owner], quota: { services: -16 } } },
      'services',
    ],
    ['PUT', '/v1/tenants/acme/projects/web', { spec: { quota: { secrets: 2 ** 63 } } }, 'secrets'],
  ] as const)(
    '%s %s refuses a count out of range with a 400 naming it, storing nothing',
    async (method, url, payload, field) => {
      const before = await rows();
      const res = await app.inject({ method, url, headers: admin, payload });
      expect(res.statusCode).toBe(400);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(JSON.stringify(res.json())).toContain(`/spec/quota/${field}`);
      expect(await rows()).toBe(before);
    },
  );

  it.each([
    ['POST', '/v1/tenants', { name: 'billed', spec: { owners: [owner], billing: { planRef: 'gold' } } }],
    ['PUT', '/v1/tenants/acme', { spec: { owners: [owner], billing: { planRef: 'gold' } } }],
    ['PUT', '/v1/tenants/acme', { spec: { owners: [owner], billing: {} } }],
  ] as const)(
    '%s %s refuses spec.billing (removed: PUT /v1/tenants/{tenant}/plan assigns plans) with a 400, storing nothing',
    async (method, url, payload) => {
      const before = await rows();
      const res = await app.inject({ method, url, headers: admin, payload });
      expect(res.statusCode).toBe(400);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      const body = res.json() as { code: string; detail: string; errors: unknown[] };
      expect(body.code).toBe('KUBEOP_ERR_VALIDATION');
      expect(body.errors).toContainEqual({
        path: '/spec/billing',
        message: 'spec.billing was removed; assign the tenant a plan with PUT /v1/tenants/{tenant}/plan',
      });
      expect(body.detail).toContain('PUT /v1/tenants/{tenant}/plan');
      expect(await rows()).toBe(before);
    },
  );

  it('accepts a spec that keeps every rule', async () => {
    const res = await app.inject({
      method: 'PUT',
      url: '/v1/tenants/acme/projects/web/apps/site',
      headers: admin,
      payload: {
        spec: {
          ...image,
          autoscaling: { minReplicas: 2, maxReplicas: 4 },
          resources: { limits: { cpu: '2' } },
        },
      },
    });
    expect(res.statusCode).toBe(200);
  });
});

describe('Tenant billing: one source of truth', () => {
  it('the Tenant CRD has no spec.billing (plans are assigned with PUT /v1/tenants/{tenant}/plan)', () => {
    const spec = crdDefinitions.find((d) => d.kind === 'Tenant')!.spec as { properties: object };
    expect(Object.keys(spec.properties)).not.toContain('billing');
    const yaml = readFileSync(
      new URL('../../../deploy/crds/tenants.paas.kubeop.io.yaml', import.meta.url),
      'utf8',
    );
    expect(yaml).not.toMatch(/^\s+planRef:/m);
    expect(yaml).not.toMatch(/^\s+billing:/m);
  });
});
