import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { drivers, type TestDatabase } from '../../support/databases.ts';
import { bearer, managerApi } from '../../support/manager.ts';
import {
  decide,
  isAction,
  listTarget,
  POLICY,
  type ActionName,
  type Target,
} from '../../../src/manager/access/policy.ts';
import { ROLES, type Principal, type Role } from '../../../src/manager/access/principal.ts';

// Every operation of the OpenAPI document, for every role, answered as src/manager/access/policy.ts
// decides: each operation names its action (`x-kubeop-action`), a refusal is the policy's 403 or
// 404, and what the policy allows is never refused. Requests the policy allows are sent only when
// they read (GET), so the fixture stays as it is.
const tenantSpec = { owners: [{ kind: 'User', name: 'alice' }] };
const appSpec = { source: { image: { ref: 'ghcr.io/acme/web:1.0' } } };
const hour = '2026-11-01T00:00:00Z';
const prices = [{ meter: 'cpu', unitPrice: '0.03' }];
const usageEvent = {
  key: 'k',
  cluster: 'c1',
  source: 'test',
  tenant: 'acme',
  project: 'web',
  meter: 'cpu',
  quantity: '1',
  time: hour,
};

/** A valid request for each operation that takes a body or a required query. */
const samples: Record<string, { body?: unknown; query?: string }> = {
  'POST /v1/tenants': { body: { name: 'newt', spec: tenantSpec } },
  'PUT /v1/tenants/{tenant}': { body: { spec: tenantSpec } },
  'POST /v1/tenants/{tenant}/projects': { body: { name: 'newp', spec: {} } },
  'PUT /v1/tenants/{tenant}/projects/{project}': { body: { spec: {} } },
  'POST /v1/tenants/{tenant}/projects/{project}/apps': { body: { name: 'newa', spec: appSpec } },
  'PUT /v1/tenants/{tenant}/projects/{project}/apps/{app}': { body: { spec: appSpec } },
  'POST /v1/tokens': { body: { name: 'x', role: 'project-viewer', tenant: 'acme', project: 'web' } },
  'POST /v1/clusters': { body: { name: 'newc', kubeconfig: 'apiVersion: v1' }, query: 'check=false' },
  'POST /v1/tenants/{tenant}/projects/{project}/kubeconfig': { body: {} },
  'POST /v1/usage/events': { body: { events: [usageEvent] } },
  'POST /v1/usage/events/void': { body: { cluster: 'c1', source: 'test', key: 'k', reason: 'wrong' } },
  'POST /v1/plans': { body: { name: 'newplan', currency: 'EUR', effectiveFrom: hour, prices } },
  'POST /v1/plans/{plan}/versions': { body: { effectiveFrom: hour, prices } },
  'PUT /v1/tenants/{tenant}/plan': { body: { plan: 'basic', effectiveFrom: hour } },
  'POST /v1/invoices': { body: { tenant: 'acme', periodStart: hour, periodEnd: '2026-12-01T00:00:00Z' } },
  'GET /v1/analytics/usage': { query: `from=${hour}&to=2026-11-02T00:00:00Z` },
  'GET /v1/analytics/top': { query: `from=${hour}&to=2026-11-02T00:00:00Z` },
};

/** Actions whose target is read from a stored object (an invoice's or a token's tenant), not the path. */
const targetFromStore = new Set<ActionName>(['invoice.read', 'token.revoke']);

type Operation = { method: string; path: string; action: unknown; hasBody: boolean };

const principalOf = (role: Role): Principal => ({ actor: role, role, tenant: 'acme', project: 'web' });

function targetOf(action: ActionName, p: Principal, params: Record<string, string>): Target {
  if (POLICY[action].scope === 'platform' || !params.tenant) return {};
  if (action === 'project.list') return listTarget(p, params.tenant);
  return params.project ? { tenant: params.tenant, project: params.project } : { tenant: params.tenant };
}

describe.each(drivers)('authorization policy over the OpenAPI document on $name', ({ open }) => {
  let t: TestDatabase;
  let app: FastifyInstance;
  let operations: Operation[];
  const tokens = new Map<Role, Record<string, string>>();

  beforeAll(async () => {
    t = await open();
    const m = await managerApi(t.db);
    app = m.app;
    const admin = bearer(m.adminToken);
    const send = async (method: 'POST' | 'PUT', url: string, payload: unknown) => {
      const res = await app.inject({ method, url, headers: admin, payload: payload as object });
      expect(res.statusCode, `${method} ${url}: ${res.body}`).toBeLessThan(300);
      return res.json();
    };
    for (const [tenant, project] of [
      ['acme', 'web'],
      ['globex', 'api'],
    ] as const) {
      await send('POST', '/v1/tenants', { name: tenant, spec: tenantSpec });
      await send('POST', `/v1/tenants/${tenant}/projects`, { name: project, spec: {} });
      await send('POST', `/v1/tenants/${tenant}/projects/${project}/apps`, { name: 'site', spec: appSpec });
    }
    await send('POST', '/v1/plans', { name: 'basic', currency: 'EUR', effectiveFrom: hour, prices });
    for (const role of ROLES) {
      const scope = role.startsWith('project-')
        ? { tenant: 'acme', project: 'web' }
        : role === 'tenant-admin'
          ? { tenant: 'acme' }
          : {};
      const created = await send('POST', '/v1/tokens', { name: role, role, ...scope });
      tokens.set(role, bearer(created.token));
    }
    const doc = (await app.inject('/openapi.json')).json() as {
      paths: Record<string, Record<string, { 'x-kubeop-action'?: unknown; requestBody?: unknown }>>;
    };
    operations = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.entries(ops).map(([method, op]) => ({
        method: method.toUpperCase(),
        path,
        action: op['x-kubeop-action'],
        hasBody: op.requestBody !== undefined,
      })),
    );
  });
  afterAll(async () => {
    await app.close();
    await t.drop();
  });

  it('maps every operation to an action the policy declares', () => {
    expect(operations.length).toBeGreaterThan(40);
    const unmapped = operations.filter((o) => typeof o.action !== 'string' || !isAction(o.action));
    expect(unmapped.map((o) => `${o.method} ${o.path}`)).toEqual([]);
  });

  it('answers every operation for every role, on its own tenant and on another, as the policy decides', async () => {
    const mismatches: string[] = [];
    let checked = 0;
    for (const op of operations) {
      const action = op.action as ActionName;
      if (targetFromStore.has(action)) continue;
      const sample = samples[`${op.method} ${op.path}`];
      if ((op.hasBody && !sample?.body) || (op.path.startsWith('/v1/analytics') && !sample?.query))
        mismatches.push(`${op.method} ${op.path}: no sample request in this test`);
      for (const role of ROLES)
        for (const params of [
          { tenant: 'acme', project: 'web' },
          { tenant: 'globex', project: 'api' },
        ]) {
          const all = { ...params, app: 'site', cluster: 'nowhere', plan: 'basic', id: crypto.randomUUID() };
          const decision = decide(principalOf(role), action, targetOf(action, principalOf(role), all));
          if (decision === 'allow' && op.method !== 'GET') continue;
          const path = op.path.replace(/\{(\w+)\}/g, (_m, k: string) => all[k as keyof typeof all]);
          const url = sample?.query ? `${path}?${sample.query}` : path;
          const res = await app.inject({
            method: op.method as 'GET',
            url,
            headers: tokens.get(role)!,
            ...(sample?.body !== undefined ? { payload: sample.body as object } : {}),
          });
          checked++;
          const expected = decision === 'forbidden' ? 403 : decision === 'hidden' ? 404 : undefined;
          const ok = expected ? res.statusCode === expected : res.statusCode !== 403;
          if (!ok)
            mismatches.push(
              `${role} ${op.method} ${url}: policy says ${decision}, API answered ${res.statusCode}`,
            );
        }
    }
    expect(mismatches).toEqual([]);
    expect(checked).toBeGreaterThan(200);
  });
});
