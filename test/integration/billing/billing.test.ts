import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { drivers, type TestDatabase } from '../../support/databases.ts';
import { bearer, managerApi } from '../../support/manager.ts';

const tenantSpec = { owners: [{ kind: 'User', name: 'alice' }], quota: { cpu: '8', pods: 40 } };
const HOUR = 3_600_000;
const sept = Date.parse('2026-09-01T00:00:00Z');
const oct = Date.parse('2026-10-01T00:00:00Z');
const nov = Date.parse('2026-11-01T00:00:00Z');
const GiBSeconds = 3600 * 2 ** 30;

interface Ev {
  key: string;
  cluster: string;
  source: string;
  tenant: string;
  project: string;
  app?: string;
  meter: string;
  quantity: string;
  time: string;
}

/** One event per hour of [from, to) for a constant level: `perHour` base units each hour. */
function hourly(
  tenant: string,
  meter: string,
  perHour: string,
  from: number,
  to: number,
  project = 'web',
): Ev[] {
  const out: Ev[] = [];
  for (let t = from; t < to; t += HOUR) {
    const time = new Date(t).toISOString();
    out.push({
      key: `${tenant}/${project}/frontend/${meter}/${time}`,
      cluster: 'c1',
      source: 'test',
      tenant,
      project,
      app: 'frontend',
      meter,
      quantity: perHour,
      time,
    });
  }
  return out;
}

describe.each(drivers)('billing on $name', ({ open }) => {
  let t: TestDatabase;
  let app: FastifyInstance;
  let admin: Record<string, string>;
  let metering: Record<string, string>;
  let acmeAdmin: Record<string, string>;

  const req = async (
    method: 'GET' | 'POST' | 'PUT' | 'DELETE',
    url: string,
    headers: Record<string, string>,
    payload?: unknown,
  ) => app.inject({ method, url, headers, ...(payload !== undefined ? { payload: payload as object } : {}) });
  const send = async (events: Ev[], headers = metering) => {
    let accepted = 0;
    let duplicates = 0;
    for (let i = 0; i < events.length; i += 1000) {
      const res = await req('POST', '/v1/usage/events', headers, { events: events.slice(i, i + 1000) });
      expect(res.statusCode, res.body).toBe(200);
      accepted += res.json().accepted;
      duplicates += res.json().duplicates;
    }
    return { accepted, duplicates };
  };
  const scalar = async (sql: string, params: unknown[] = []) =>
    Object.values((await t.db.query<Record<string, unknown>>(sql, params)).rows[0]!)[0];
  const draft = async (tenant: string, from: number, to: number) =>
    req('POST', '/v1/invoices', admin, {
      tenant,
      periodStart: new Date(from).toISOString(),
      periodEnd: new Date(to).toISOString(),
    });

  beforeAll(async () => {
    t = await open();
    const m = await managerApi(t.db);
    app = m.app;
    admin = bearer(m.adminToken);
    for (const name of ['acme', 'beta'])
      expect((await req('POST', '/v1/tenants', admin, { name, spec: tenantSpec })).statusCode).toBe(201);
    const tok = async (body: object) => {
      const res = await req('POST', '/v1/tokens', admin, body);
      expect(res.statusCode, res.body).toBe(201);
      return bearer(res.json().token as string);
    };
    metering = await tok({ name: 'operator', role: 'metering' });
    acmeAdmin = await tok({ name: 'acme-admin', role: 'tenant-admin', tenant: 'acme' });
  });
  afterAll(async () => {
    await app.close();
    await t.drop();
  });

  describe('metering tokens', () => {
    it('is platform-wide: a metering token with a tenant is refused', async () => {
      const res = await req('POST', '/v1/tokens', admin, { name: 'm', role: 'metering', tenant: 'acme' });
      expect(res.statusCode).toBe(400);
      expect(res.json()).toMatchObject({ code: 'KUBEOP_ERR_TOKEN_SCOPE' });
    });

    it('may send usage but do nothing else, and only metering or platform-admin may send usage', async () => {
      for (const url of ['/v1/tenants', '/v1/tokens', '/v1/invoices', '/v1/plans']) {
        const res = await req('GET', url, metering);
        expect(res.statusCode, url).toBe(403);
      }
      const res = await req('POST', '/v1/usage/events', acmeAdmin, {
        events: hourly('acme', 'cpu', '1', sept, sept + HOUR),
      });
      expect(res.statusCode).toBe(403);
      expect(await scalar('SELECT count(*)::int FROM usage_events')).toBe(0);
    });

    it('cannot be granted by a tenant-admin', async () => {
      const res = await req('POST', '/v1/tokens', acmeAdmin, { name: 'm', role: 'metering' });
      expect(res.statusCode).toBe(403);
    });
  });

  describe('ingestion', () => {
    it('counts a batch once: a retry is all duplicates and the rollup does not change', async () => {
      const events = hourly('acme', 'pods', '3600', sept, sept + 3 * HOUR);
      expect(await send(events)).toEqual({ accepted: 3, duplicates: 0 });
      expect(await send(events)).toEqual({ accepted: 0, duplicates: 3 });
      // The same key twice in one batch counts once.
      const extra = hourly('acme', 'pods', '3600', sept + 3 * HOUR, sept + 4 * HOUR);
      expect(await send([...extra, ...extra])).toEqual({ accepted: 1, duplicates: 1 });
      expect(await scalar("SELECT sum(quantity)::text FROM usage_hourly WHERE meter = 'pods'")).toBe(
        '14400.000000',
      );
    });

    it('reports a key sent again with a different payload as a conflict, and counts the first one only', async () => {
      const aug = Date.parse('2026-08-01T00:00:00Z'); // no invoice or analytics below looks at it
      const [first] = hourly('acme', 'pods', '3600', aug + 10 * HOUR, aug + 11 * HOUR);
      const res = async (events: Ev[]) =>
        (await req('POST', '/v1/usage/events', metering, { events })).json();
      expect(await res([first!])).toEqual({ accepted: 1, duplicates: 0, conflicts: 0 });
      expect(await res([first!])).toEqual({ accepted: 0, duplicates: 1, conflicts: 0 });
      expect(await res([{ ...first!, quantity: '7200' }])).toEqual({
        accepted: 0,
        duplicates: 0,
        conflicts: 1,
      });
      // Within one batch too: the second payload of a key conflicts with the first.
      const [other] = hourly('acme', 'pods', '3600', aug + 11 * HOUR, aug + 12 * HOUR);
      expect(await res([other!, { ...other!, project: 'api' }])).toEqual({
        accepted: 1,
        duplicates: 0,
        conflicts: 1,
      });
      expect(
        await scalar(
          "SELECT sum(quantity)::text FROM usage_hourly WHERE meter = 'pods' AND hour >= $1 AND hour < $2",
          [new Date(aug + 10 * HOUR).toISOString(), new Date(aug + 12 * HOUR).toISOString()],
        ),
      ).toBe('7200.000000');
    });

    it('keeps keys apart per cluster and source', async () => {
      const [e] = hourly('acme', 'custom.requests', '5', sept, sept + HOUR);
      expect(await send([e!, { ...e!, cluster: 'c2' }, { ...e!, source: 'other' }])).toEqual({
        accepted: 3,
        duplicates: 0,
      });
    });

    it('never double-counts concurrent duplicate batches', async () => {
      const events = hourly('acme', 'custom.jobs', '1.5', sept, sept + 200 * HOUR);
      const results = await Promise.all(
        Array.from({ length: 6 }, () => req('POST', '/v1/usage/events', metering, { events })),
      );
      for (const r of results) expect(r.statusCode, r.body).toBe(200);
      const accepted = results.reduce((s, r) => s + (r.json().accepted as number), 0);
      const dup = results.reduce((s, r) => s + (r.json().duplicates as number), 0);
      expect(accepted).toBe(200);
      expect(dup).toBe(5 * 200);
      expect(await scalar("SELECT sum(quantity)::text FROM usage_hourly WHERE meter = 'custom.jobs'")).toBe(
        '300.000000',
      );
      expect(await scalar("SELECT sum(events)::int FROM usage_hourly WHERE meter = 'custom.jobs'")).toBe(200);
    });

    it('refuses an invalid batch as a whole with a 400 naming the field, storing nothing', async () => {
      const before = await scalar('SELECT count(*)::int FROM usage_events');
      const good = hourly('acme', 'cpu', '1', sept, sept + HOUR)[0]!;
      const bad: Array<[string, unknown, string]> = [
        ['float quantity', { events: [good, { ...good, key: 'x', quantity: '1e3' }] }, '/events/1/quantity'],
        ['negative quantity', { events: [{ ...good, key: 'y', quantity: '-1' }] }, '/events/0/quantity'],
        ['JSON number', { events: [{ ...good, key: 'n', quantity: 1.5 }] }, '/events/0/quantity'],
        ['meter name', { events: [{ ...good, key: 'z', meter: 'CPU!' }] }, '/events/0/meter'],
        [
          'too many',
          { events: Array.from({ length: 1001 }, (_, i) => ({ ...good, key: `k${i}` })) },
          '/events',
        ],
        ['unknown field', { events: [{ ...good, extra: 1 }] }, '/events/0'],
      ];
      for (const [what, body, path] of bad) {
        const res = await req('POST', '/v1/usage/events', metering, body);
        expect(res.statusCode, what).toBe(400);
        expect(res.json().code).toBe('KUBEOP_ERR_VALIDATION');
        expect(JSON.stringify(res.json().errors), what).toContain(path);
      }
      const future = await req('POST', '/v1/usage/events', metering, {
        events: [{ ...good, key: 'f', time: new Date(Date.now() + 3600_000).toISOString() }],
      });
      expect(future.statusCode).toBe(400);
      expect(future.json()).toMatchObject({ code: 'KUBEOP_ERR_USAGE_IN_FUTURE' });
      expect(await scalar('SELECT count(*)::int FROM usage_events')).toBe(before);
    });
  });

  describe('plans', () => {
    const standard = {
      name: 'standard',
      currency: 'EUR',
      effectiveFrom: '2026-01-01T00:00:00Z',
      prices: [
        { meter: 'cpu', unitPrice: '0.03' },
        { meter: 'memory', unitPrice: '0.004' },
      ],
      fees: [{ name: 'platform', monthlyAmount: '10' }],
    };

    it('creates a plan and refuses bad prices, a bad currency or a duplicate name', async () => {
      const res = await req('POST', '/v1/plans', admin, standard);
      expect(res.statusCode, res.body).toBe(201);
      expect(res.json().versions[0]).toMatchObject({
        effectiveFrom: '2026-01-01T00:00:00Z',
        prices: [
          { meter: 'cpu', unit: 'core-hour', unitPrice: '0.03', included: '0' },
          { meter: 'memory', unit: 'GiB-hour', unitPrice: '0.004', included: '0' },
        ],
      });
      expect((await req('POST', '/v1/plans', admin, standard)).json()).toMatchObject({
        code: 'KUBEOP_ERR_PLAN_EXISTS',
      });
      const cases: Array<[object, number, string]> = [
        [{ ...standard, name: 'p1', currency: 'XYZ' }, 400, 'KUBEOP_ERR_PLAN_INVALID'],
        [
          {
            ...standard,
            name: 'p2',
            prices: [
              { meter: 'cpu', unitPrice: '0.1' },
              { meter: 'cpu', unitPrice: '0.2' },
            ],
          },
          400,
          'KUBEOP_ERR_PLAN_INVALID',
        ],
        [
          { ...standard, name: 'p3', prices: [{ meter: 'cpu', unitPrice: 0.1 }] },
          400,
          'KUBEOP_ERR_VALIDATION',
        ],
        [
          { ...standard, name: 'p4', effectiveFrom: '2026-01-01T00:30:00Z' },
          400,
          'KUBEOP_ERR_NOT_ON_THE_HOUR',
        ],
      ];
      for (const [body, status, code] of cases) {
        const r = await req('POST', '/v1/plans', admin, body);
        expect(r.statusCode, JSON.stringify(body)).toBe(status);
        expect(r.json().code).toBe(code);
      }
      expect(await scalar('SELECT count(*)::int FROM plans')).toBe(1);
    });

    it('lets only a platform-admin manage plans', async () => {
      expect((await req('POST', '/v1/plans', acmeAdmin, { ...standard, name: 'mine' })).statusCode).toBe(403);
      expect(
        (
          await req('PUT', '/v1/tenants/acme/plan', acmeAdmin, {
            plan: 'standard',
            effectiveFrom: '2026-01-01T00:00:00Z',
          })
        ).statusCode,
      ).toBe(403);
    });

    it('assigns plans to tenants with effective hours, readable by the tenant-admin', async () => {
      for (const [tenant, plan, from] of [['acme', 'standard', '2026-01-01T00:00:00Z']]) {
        const res = await req('PUT', `/v1/tenants/${tenant}/plan`, admin, { plan, effectiveFrom: from });
        expect(res.statusCode, res.body).toBe(200);
      }
      const mine = await req('GET', '/v1/tenants/acme/plan', acmeAdmin);
      expect(mine.json()).toEqual({
        tenant: 'acme',
        assignments: [{ plan: 'standard', effectiveFrom: '2026-01-01T00:00:00Z' }], // to the second, as everywhere
      });
      expect((await req('GET', '/v1/tenants/beta/plan', acmeAdmin)).statusCode).toBe(404);
    });
  });

  describe('invoices', () => {
    let september: { id: string; number: string; total: string };

    it('drafts a month whose lines are quantity × price per project and meter', async () => {
      await send([
        ...hourly('acme', 'cpu', '7200', sept, oct), // 2 cores
        ...hourly('acme', 'memory', String(GiBSeconds), sept, oct), // 1 GiB
      ]);
      const res = await draft('acme', sept, oct);
      expect(res.statusCode, res.body).toBe(201);
      const inv = res.json();
      expect(inv).toMatchObject({ status: 'draft', number: null, currency: 'EUR', tenant: 'acme' });
      const byItem = Object.fromEntries(
        (inv.lines as Array<{ item: string; quantity: string; unitPrice: string; amount: string }>).map(
          (l) => [l.item, [l.quantity, l.unitPrice, l.amount]],
        ),
      );
      expect(byItem).toMatchObject({
        platform: ['1', '10', '10.00'], // one month × 10 a month
        cpu: ['1440', '0.03', '43.20'],
        memory: ['720', '0.004', '2.88'],
        pods: ['4', '0', '0.00'],
      });
      expect(inv.total).toBe('56.08');
      // Generating again replaces the draft rather than adding one.
      const again = await draft('acme', sept, oct);
      expect(again.statusCode).toBe(200);
      expect(again.json().id).toBe(inv.id);
      expect(await scalar("SELECT count(*)::int FROM invoices WHERE tenant = 'acme'")).toBe(1);
    });

    it('exports the same total as JSON, CSV and HTML', async () => {
      const id = (await draft('acme', sept, oct)).json().id as string;
      const json = (await req('GET', `/v1/invoices/${id}`, admin)).json();
      const csv = await req('GET', `/v1/invoices/${id}/csv`, admin);
      expect(csv.headers['content-type']).toMatch(/^text\/csv/);
      const rows = csv.body
        .trim()
        .split('\r\n')
        .map((r) => r.split(','));
      const header = rows[0]!;
      const amount = header.indexOf('amount');
      const kind = header.indexOf('kind');
      const lines = rows.slice(1).filter((r) => r[kind] !== 'total');
      const cents = (s: string) => Math.round(Number(s) * 100);
      expect(lines.reduce((s, r) => s + cents(r[amount]!), 0)).toBe(cents(json.total));
      expect(rows.at(-1)![amount]).toBe(json.total);
      expect(lines).toHaveLength(json.lines.length);
      const html = await req('GET', `/v1/invoices/${id}/html`, admin);
      expect(html.headers['content-type']).toMatch(/^text\/html/);
      expect(html.body).toContain('56.08');
      expect(html.body).toContain('DRAFT');
    });

    it('finalizes with a number, after which nothing can change it', async () => {
      const id = (await draft('acme', sept, oct)).json().id as string;
      const res = await req('POST', `/v1/invoices/${id}/finalize`, admin);
      expect(res.statusCode, res.body).toBe(200);
      september = res.json();
      expect(september).toMatchObject({ status: 'finalized', number: 'INV-000001', total: '56.08' });
      expect((await req('POST', `/v1/invoices/${id}/finalize`, admin)).json()).toMatchObject({
        code: 'KUBEOP_ERR_INVOICE_FINALIZED',
      });
      expect((await req('DELETE', `/v1/invoices/${id}`, admin)).statusCode).toBe(409);
      expect((await draft('acme', sept + 24 * HOUR, oct)).json()).toMatchObject({
        code: 'KUBEOP_ERR_INVOICE_PERIOD_FINALIZED',
      });
      // The database refuses too, whoever asks.
      await expect(t.db.query('UPDATE invoices SET total = 1 WHERE id = $1', [id])).rejects.toThrow(
        /finalized/,
      );
      await expect(t.db.query('DELETE FROM invoices WHERE id = $1', [id])).rejects.toThrow(/finalized/);
      await expect(
        t.db.query('UPDATE invoice_lines SET amount = 0 WHERE invoice_id = $1', [id]),
      ).rejects.toThrow(/finalized/);
      await expect(t.db.query('DELETE FROM invoice_lines WHERE invoice_id = $1', [id])).rejects.toThrow(
        /finalized/,
      );
      expect((await req('GET', `/v1/invoices/${id}`, admin)).json().total).toBe('56.08');
    });

    it('refuses a price change or plan change inside an invoiced period', async () => {
      const res = await req('POST', '/v1/plans/standard/versions', admin, {
        effectiveFrom: '2026-09-15T00:00:00Z',
        prices: [{ meter: 'cpu', unitPrice: '1' }],
      });
      expect(res.json()).toMatchObject({ code: 'KUBEOP_ERR_PRICE_CHANGE_IN_BILLED_PERIOD' });
      const assign = await req('PUT', '/v1/tenants/acme/plan', admin, {
        plan: 'standard',
        effectiveFrom: '2026-09-20T00:00:00Z',
      });
      expect(assign.json()).toMatchObject({ code: 'KUBEOP_ERR_PLAN_CHANGE_IN_BILLED_PERIOD' });
    });

    it('carries late usage of a finalized period to the next invoice as adjustments', async () => {
      // One more core-hour in September, after INV-000001 was finalized.
      const late = hourly('acme', 'cpu', '3600', sept + 5 * HOUR, sept + 6 * HOUR).map((e) => ({
        ...e,
        key: `${e.key}/late`,
      }));
      expect(await send(late)).toEqual({ accepted: 1, duplicates: 0 });
      expect((await req('GET', `/v1/invoices/${september.id}`, admin)).json().total).toBe('56.08');
      const octDraft = (await draft('acme', oct, nov)).json();
      const adj = octDraft.lines.filter((l: { kind: string }) => l.kind === 'adjustment');
      expect(adj).toEqual([
        expect.objectContaining({
          item: 'cpu',
          project: 'web',
          quantity: '1',
          unitPrice: '0.03',
          amount: '0.03',
          adjusts: 'INV-000001',
        }),
      ]);
      expect(octDraft.total).toBe('10.03'); // the October fee and the adjustment
      const fin = await req('POST', `/v1/invoices/${octDraft.id}/finalize`, admin);
      expect(fin.json()).toMatchObject({ number: 'INV-000002', total: '10.03' });
      // Carried once: the next invoice has no adjustment for it.
      const novDraft = (await draft('acme', nov, Date.parse('2026-12-01T00:00:00Z'))).json();
      expect(novDraft.lines.filter((l: { kind: string }) => l.kind === 'adjustment')).toEqual([]);
      expect(
        await scalar('SELECT count(*)::int FROM usage_adjustments WHERE applied_invoice_id IS NULL'),
      ).toBe(0);
    });

    it('prices each part of a period by its plan when the plan changes mid-period', async () => {
      for (const [name, price] of [
        ['small', '0.10'],
        ['large', '0.05'],
      ])
        await req('POST', '/v1/plans', admin, {
          name,
          currency: 'EUR',
          effectiveFrom: '2026-01-01T00:00:00Z',
          prices: [{ meter: 'cpu', unitPrice: price }],
        });
      await req('PUT', '/v1/tenants/beta/plan', admin, {
        plan: 'small',
        effectiveFrom: '2026-09-01T00:00:00Z',
      });
      await req('PUT', '/v1/tenants/beta/plan', admin, {
        plan: 'large',
        effectiveFrom: '2026-09-16T00:00:00Z',
      });
      await send(hourly('beta', 'cpu', '3600', sept, oct));
      const inv = (await draft('beta', sept, oct)).json();
      expect(
        inv.lines.map((l: { plan: string; quantity: string; unitPrice: string; amount: string }) => [
          l.plan,
          l.quantity,
          l.unitPrice,
          l.amount,
        ]),
      ).toEqual([
        ['small', '360', '0.1', '36.00'],
        ['large', '360', '0.05', '18.00'],
      ]);
      expect(inv.total).toBe('54.00');
    });

    it('rates again the later invoices of a month that late usage changes, so the month adds up', async () => {
      // 1 EUR per core-hour, 10 included, 30 a month; October in two finalized halves. 7 core-hours in
      // the first half and 3 in the second are all included. 3 more arrive late for the first half:
      // the first half still nets 0, but the second half's 3 core-hours are no longer included.
      expect((await req('POST', '/v1/tenants', admin, { name: 'gamma', spec: tenantSpec })).statusCode).toBe(
        201,
      );
      await req('POST', '/v1/plans', admin, {
        name: 'hourly',
        currency: 'EUR',
        effectiveFrom: '2026-01-01T00:00:00Z',
        prices: [{ meter: 'cpu', unitPrice: '1', included: '10' }],
        fees: [{ name: 'base', monthlyAmount: '30' }],
      });
      await req('PUT', '/v1/tenants/gamma/plan', admin, {
        plan: 'hourly',
        effectiveFrom: '2026-09-01T00:00:00Z',
      });
      const half = oct + 15 * 24 * HOUR;
      await send([
        ...hourly('gamma', 'cpu', '3600', oct, oct + 7 * HOUR),
        ...hourly('gamma', 'cpu', '3600', half, half + 3 * HOUR),
      ]);
      const totals: string[] = [];
      for (const [from, to] of [
        [oct, half],
        [half, nov],
      ] as const) {
        const d = (await draft('gamma', from, to)).json();
        const f = await req('POST', `/v1/invoices/${d.id}/finalize`, admin);
        expect(f.statusCode, f.body).toBe(200);
        totals.push(f.json().total);
      }
      const late = hourly('gamma', 'cpu', '3600', oct + 10 * HOUR, oct + 13 * HOUR);
      expect(await send(late)).toEqual({ accepted: 3, duplicates: 0 });
      const next = (await draft('gamma', nov, Date.parse('2026-12-01T00:00:00Z'))).json();
      const adj = next.lines.filter((l: { kind: string }) => l.kind === 'adjustment');
      const cents = (s: string) => BigInt(s.replace('.', ''));
      const adjusted = adj.reduce((t: bigint, l: { amount: string }) => t + cents(l.amount), 0n);
      expect(adjusted).toBe(300n);
      // What one invoice of the whole of October says now, in a tenant that had only that.
      const billed = totals.reduce((t, x) => t + cents(x), 0n) + adjusted;
      expect(billed).toBe(3300n); // 30.00 + 13 core-hours − 10 included
    });

    it('shows every line of every invoice as quantity × unit price = amount, to the cent', async () => {
      const dec = (s: string, scale: number) => {
        const neg = s.startsWith('-');
        const [i, f = ''] = (neg ? s.slice(1) : s).split('.');
        const v = BigInt(i! + f.padEnd(scale, '0'));
        return neg ? -v : v;
      };
      const half = (n: bigint, d: bigint) => {
        // half-even n / d, d > 0
        let q = n / d;
        let r = n % d;
        if (r < 0n) {
          q -= 1n;
          r += d;
        }
        return 2n * r > d || (2n * r === d && q % 2n !== 0n) ? q + 1n : q;
      };
      const list = (await req('GET', '/v1/invoices?limit=500', admin)).json().items as Array<{ id: string }>;
      let checked = 0;
      for (const { id } of list) {
        const inv = (await req('GET', `/v1/invoices/${id}`, admin)).json();
        for (const l of inv.lines as Array<{ quantity: string; unitPrice: string; amount: string }>) {
          const product = half(dec(l.quantity, 6) * dec(l.unitPrice, 12) * 100n, 10n ** 18n);
          expect(product, JSON.stringify(l)).toBe(dec(l.amount, 2));
          checked++;
        }
      }
      expect(checked).toBeGreaterThan(10);
    });

    it('refuses to finalize a period that has not ended yet, but drafts it', async () => {
      const thisHour = Math.floor(Date.now() / HOUR) * HOUR;
      const d = await draft('acme', thisHour, thisHour + 24 * HOUR);
      expect(d.statusCode, d.body).toBe(201);
      const f = await req('POST', `/v1/invoices/${d.json().id}/finalize`, admin);
      expect(f.statusCode, f.body).toBe(409);
      expect(f.json().code).toBe('KUBEOP_ERR_PERIOD_NOT_ENDED');
      expect((await req('DELETE', `/v1/invoices/${d.json().id}`, admin)).statusCode).toBe(204);
    });

    it('answers 405 with Allow to PUT and PATCH on an invoice: invoices change only by finalizing', async () => {
      const id = september.id;
      for (const method of ['PUT', 'PATCH'] as const) {
        const res = await app.inject({ method, url: `/v1/invoices/${id}`, headers: admin, payload: {} });
        expect(res.statusCode, res.body).toBe(405);
        expect(res.headers['allow']).toBe('GET, DELETE');
        expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
        expect(res.json().code).toBe('KUBEOP_ERR_METHOD_NOT_ALLOWED');
      }
    });

    it('refuses plans and invoices for a tenant that does not exist, with a 404', async () => {
      const assign = await req('PUT', '/v1/tenants/ghost/plan', admin, {
        plan: 'standard',
        effectiveFrom: '2026-09-01T00:00:00Z',
      });
      expect(assign.statusCode, assign.body).toBe(404);
      expect(assign.json().code).toBe('KUBEOP_ERR_TENANT_NOT_FOUND');
      expect((await req('GET', '/v1/tenants/ghost/plan', admin)).json().code).toBe(
        'KUBEOP_ERR_TENANT_NOT_FOUND',
      );
      const d = await draft('ghost', sept, oct);
      expect(d.statusCode, d.body).toBe(404);
      expect(d.json().code).toBe('KUBEOP_ERR_TENANT_NOT_FOUND');
      // A draft whose tenant was deleted since is not finalized either (it stays for the admin).
      expect((await req('POST', '/v1/tenants', admin, { name: 'gone', spec: tenantSpec })).statusCode).toBe(
        201,
      );
      await req('PUT', '/v1/tenants/gone/plan', admin, {
        plan: 'standard',
        effectiveFrom: '2026-09-01T00:00:00Z',
      });
      const kept = (await draft('gone', sept, oct)).json();
      expect((await req('DELETE', '/v1/tenants/gone', admin)).statusCode).toBeLessThan(300);
      const f = await req('POST', `/v1/invoices/${kept.id}/finalize`, admin);
      expect(f.statusCode, f.body).toBe(404);
      expect(f.json().code).toBe('KUBEOP_ERR_TENANT_NOT_FOUND');
      expect((await req('GET', `/v1/invoices/${kept.id}`, admin)).statusCode).toBe(200);
      expect(await scalar('SELECT count(*)::int FROM tenant_plans WHERE tenant = $1', ['ghost'])).toBe(0);
    });

    it('refuses a period no plan covers with a 422', async () => {
      const res = await draft('beta', Date.parse('2026-08-01T00:00:00Z'), sept);
      expect(res.statusCode).toBe(422);
      expect(res.json()).toMatchObject({ code: 'KUBEOP_ERR_NO_PLAN' });
    });

    it('shows a tenant-admin its own invoices only, and lets it change none', async () => {
      const list = (await req('GET', '/v1/invoices', acmeAdmin)).json();
      expect(list.items.length).toBeGreaterThan(0);
      expect(list.items.every((i: { tenant: string }) => i.tenant === 'acme')).toBe(true);
      expect((await req('GET', `/v1/invoices/${september.id}`, acmeAdmin)).statusCode).toBe(200);
      const betaInvoice = (await req('GET', '/v1/invoices?tenant=beta', admin)).json().items[0];
      expect((await req('GET', `/v1/invoices/${betaInvoice.id}`, acmeAdmin)).statusCode).toBe(404);
      expect((await req('GET', `/v1/invoices/${betaInvoice.id}/csv`, acmeAdmin)).statusCode).toBe(404);
      expect((await req('POST', `/v1/invoices/${betaInvoice.id}/finalize`, acmeAdmin)).statusCode).toBe(403);
      expect((await draft('acme', nov, nov + HOUR)).statusCode).toBe(201);
      expect(
        (
          await req('POST', '/v1/invoices', acmeAdmin, {
            tenant: 'acme',
            periodStart: '2026-12-01T00:00:00Z',
            periodEnd: '2026-12-02T00:00:00Z',
          })
        ).statusCode,
      ).toBe(403);
    });
  });

  describe('values the API accepts are values it can bill', () => {
    // August, so that the analytics of September below see none of it.
    const aug = Date.parse('2026-08-01T00:00:00Z');
    it('refuses quantities, prices and fees beyond what storage and rating hold, with a 400', async () => {
      const good = hourly('delta', 'cpu', '1', sept, sept + HOUR)[0]!;
      const huge = await req('POST', '/v1/usage/events', metering, {
        events: [{ ...good, key: 'huge', quantity: '1'.repeat(24) }],
      });
      expect(huge.statusCode, huge.body).toBe(400);
      expect(huge.json().code).toBe('KUBEOP_ERR_VALIDATION');
      for (const body of [
        { prices: [{ meter: 'cpu', unitPrice: '1'.repeat(19) }] },
        { prices: [], fees: [{ name: 'base', monthlyAmount: '1'.repeat(19) }] },
        { prices: [{ meter: 'cpu', unitPrice: '1', included: '1'.repeat(24) }] },
      ]) {
        const res = await req('POST', '/v1/plans', admin, {
          name: 'too-big',
          currency: 'EUR',
          effectiveFrom: '2026-01-01T00:00:00Z',
          ...body,
        });
        expect(res.statusCode, res.body).toBe(400);
        expect(res.json().code).toBe('KUBEOP_ERR_VALIDATION');
      }
    });

    it('answers 422 for an invoice too large to represent, and voiding the event through the API fixes it', async () => {
      expect((await req('POST', '/v1/tenants', admin, { name: 'delta', spec: tenantSpec })).statusCode).toBe(
        201,
      );
      await req('POST', '/v1/plans', admin, {
        name: 'pricey',
        currency: 'EUR',
        effectiveFrom: '2026-01-01T00:00:00Z',
        prices: [{ meter: 'cpu', unitPrice: '999999999999' }],
      });
      await req('PUT', '/v1/tenants/delta/plan', admin, {
        plan: 'pricey',
        effectiveFrom: '2026-08-01T00:00:00Z',
      });
      const [ok] = hourly('delta', 'cpu', '3600', aug, aug + HOUR);
      const wrong = { ...ok!, key: 'wrong', quantity: '999999999999999' };
      expect(await send([ok!, wrong])).toMatchObject({ accepted: 2 });
      const tooLarge = await draft('delta', aug, sept);
      expect(tooLarge.statusCode, tooLarge.body).toBe(422);
      expect(tooLarge.json().code).toBe('KUBEOP_ERR_AMOUNT_TOO_LARGE');

      const voidBody = { cluster: wrong.cluster, source: wrong.source, key: wrong.key, reason: 'meter bug' };
      expect((await req('POST', '/v1/usage/events/void', metering, voidBody)).statusCode).toBe(403);
      const voided = await req('POST', '/v1/usage/events/void', admin, voidBody);
      expect(voided.statusCode, voided.body).toBe(200);
      expect(voided.json()).toMatchObject({ key: 'wrong', quantity: '999999999999999', tenant: 'delta' });
      expect((await req('POST', '/v1/usage/events/void', admin, voidBody)).json().code).toBe(
        'KUBEOP_ERR_USAGE_EVENT_VOIDED',
      );
      expect(
        (await req('POST', '/v1/usage/events/void', admin, { ...voidBody, key: 'nope' })).json().code,
      ).toBe('KUBEOP_ERR_USAGE_EVENT_NOT_FOUND');
      expect(
        await scalar("SELECT count(*)::int FROM audit_log WHERE action = 'void' AND resource_name = 'wrong'"),
      ).toBe(1);
      // A voided key stays used: sending it again counts nothing.
      expect(await send([wrong])).toMatchObject({ accepted: 0 });
      const fixed = await draft('delta', aug, sept);
      expect(fixed.statusCode, fixed.body).toBe(201);
      expect(fixed.json().total).toBe('999999999999.00');
    });

    it('carries a voided event of a finalized invoice as a negative adjustment', async () => {
      const d = (await draft('delta', aug, sept)).json();
      expect((await req('POST', `/v1/invoices/${d.id}/finalize`, admin)).statusCode).toBe(200);
      const [ok] = hourly('delta', 'cpu', '3600', aug, aug + HOUR);
      const res = await req('POST', '/v1/usage/events/void', admin, {
        cluster: ok!.cluster,
        source: ok!.source,
        key: ok!.key,
        reason: 'double-counted',
      });
      expect(res.statusCode, res.body).toBe(200);
      const next = (await draft('delta', sept, oct)).json();
      expect(
        next.lines
          .filter((l: { kind: string }) => l.kind === 'adjustment')
          .map((l: { quantity: string; amount: string }) => [l.quantity, l.amount]),
      ).toEqual([['-1', '-999999999999.00']]);
    });
  });

  describe('analytics', () => {
    it('gives usage and cost by day and project, and by month', async () => {
      const res = await req(
        'GET',
        '/v1/analytics/usage?from=2026-09-01T00:00:00Z&to=2026-09-03T00:00:00Z&granularity=day&tenant=beta&groupBy=project',
        admin,
      );
      expect(res.statusCode, res.body).toBe(200);
      expect(res.json().items).toEqual([
        {
          bucket: '2026-09-01T00:00:00Z',
          tenant: 'beta',
          project: 'web',
          meter: 'cpu',
          quantity: '24',
          unit: 'core-hour',
          cost: '2.40',
          currency: 'EUR',
        },
        {
          bucket: '2026-09-02T00:00:00Z',
          tenant: 'beta',
          project: 'web',
          meter: 'cpu',
          quantity: '24',
          unit: 'core-hour',
          cost: '2.40',
          currency: 'EUR',
        },
      ]);
      const month = await req(
        'GET',
        '/v1/analytics/usage?from=2026-09-01T00:00:00Z&to=2026-10-01T00:00:00Z&granularity=month&tenant=beta&groupBy=app',
        admin,
      );
      expect(month.json().items).toEqual([
        expect.objectContaining({
          bucket: '2026-09-01T00:00:00Z',
          app: 'frontend',
          quantity: '720',
          cost: '54.00',
        }),
      ]);
    });

    it('ranks the top tenants by cost, and scopes a tenant-admin to its tenant', async () => {
      const top = (
        await req(
          'GET',
          '/v1/analytics/top?from=2026-09-01T00:00:00Z&to=2026-10-01T00:00:00Z&by=tenant',
          admin,
        )
      ).json();
      expect(top.items.map((i: { tenant: string; cost: string }) => [i.tenant, i.cost])).toEqual([
        ['beta', '54.00'],
        ['acme', '46.11'], // 1441 core-hours × 0.03 + 720 GiB-hours × 0.004
      ]);
      const mine = (
        await req(
          'GET',
          '/v1/analytics/top?from=2026-09-01T00:00:00Z&to=2026-10-01T00:00:00Z&by=project',
          acmeAdmin,
        )
      ).json();
      expect(mine.items.every((i: { tenant: string }) => i.tenant === 'acme')).toBe(true);
      expect(
        (
          await req(
            'GET',
            '/v1/analytics/usage?from=2026-09-01T00:00:00Z&to=2026-10-01T00:00:00Z&tenant=beta',
            acmeAdmin,
          )
        ).statusCode,
      ).toBe(404);
    });

    it('ranks within one currency, and lists a tenant once even when part of its usage had no plan', async () => {
      // usd: a USD plan from 15 September, usage all month (the first half has no plan, no cost).
      expect((await req('POST', '/v1/tenants', admin, { name: 'usd', spec: tenantSpec })).statusCode).toBe(
        201,
      );
      await req('POST', '/v1/plans', admin, {
        name: 'dollars',
        currency: 'USD',
        effectiveFrom: '2026-01-01T00:00:00Z',
        prices: [{ meter: 'cpu', unitPrice: '100' }],
      });
      await req('PUT', '/v1/tenants/usd/plan', admin, {
        plan: 'dollars',
        effectiveFrom: '2026-09-15T00:00:00Z',
      });
      await send(hourly('usd', 'cpu', '3600', sept, oct));
      const top = async (query: string) =>
        req(
          'GET',
          `/v1/analytics/top?from=2026-09-01T00:00:00Z&to=2026-10-01T00:00:00Z&by=tenant${query}`,
          admin,
        );
      const mixed = await top('');
      expect(mixed.statusCode, mixed.body).toBe(422);
      expect(mixed.json().code).toBe('KUBEOP_ERR_MIXED_CURRENCY');
      const usd = (await top('&currency=USD')).json();
      expect(usd.items).toEqual([{ tenant: 'usd', cost: '38400.00', currency: 'USD' }]); // 384 h × 100
      const eur = (await top('&currency=EUR')).json();
      expect(eur.items.map((i: { tenant: string }) => i.tenant)).toEqual(['beta', 'acme']);
      expect((await top('&tenant=usd')).json().items).toEqual([
        { tenant: 'usd', cost: '38400.00', currency: 'USD' },
      ]);
    });
  });
});
