import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { FastifyInstance, InjectOptions } from 'fastify';
import { drivers, type TestDatabase } from '../../support/databases.ts';
import { bearer, managerApi } from '../../support/manager.ts';

describe.each(drivers)('rate limits as documented, on $name', ({ open }) => {
  let t: TestDatabase;
  let app: FastifyInstance;
  let admin: Record<string, string>;

  beforeEach(async () => {
    t = await open();
    const m = await managerApi(t.db, { rateLimitPerMinute: 3 });
    app = m.app;
    admin = bearer(m.adminToken);
  });
  afterEach(async () => {
    await app.close();
    await t.drop();
  });

  const codes = async (n: number, request: InjectOptions) => {
    const out: number[] = [];
    for (let i = 0; i < n; i++) out.push((await app.inject(request)).statusCode);
    return out;
  };

  it('requests without a valid token are limited per client address', async () => {
    expect(await codes(2, { url: '/v1/tenants' })).toEqual([401, 401]);
    expect(await codes(1, { url: '/v1/tenants', headers: bearer('kop_' + 'x'.repeat(43)) })).toEqual([401]);
    const limited = await app.inject({ url: '/v1/tenants', headers: bearer('not-a-token') });
    expect(limited.statusCode).toBe(429);
    expect(limited.json()).toMatchObject({ code: 'KUBEOP_ERR_RATE_LIMITED' });
    // Another address has its own budget, and so has a valid token from the same address.
    expect(await codes(1, { url: '/v1/tenants', remoteAddress: '10.0.0.2' })).toEqual([401]);
    expect(await codes(1, { url: '/v1/tenants', headers: admin })).toEqual([200]);
  });

  it('requests refused by validation count against the token’s limit', async () => {
    const invalid = {
      method: 'POST',
      url: '/v1/tenants',
      headers: admin,
      payload: { name: 'Not A Name' },
    } as const;
    expect(await codes(3, invalid)).toEqual([400, 400, 400]);
    expect(await codes(1, { url: '/v1/tenants', headers: admin })).toEqual([429]);
  });

  it('probes and the API document are never limited', async () => {
    expect(await codes(5, { url: '/healthz' })).toEqual([200, 200, 200, 200, 200]);
    expect(await codes(5, { url: '/openapi.json' })).toEqual([200, 200, 200, 200, 200]);
  });
});
