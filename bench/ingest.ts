// bench/ingest: usage ingestion and invoice generation on real PostgreSQL.
//
// Ingestion — baseline: a bare multi-row `INSERT … ON CONFLICT DO NOTHING` of each batch into a
// table shaped like usage_events (same primary key), one statement per batch. Measured: the
// manager's ingestion (billingService.ingest: validation, a transaction with the ingestion lock, the
// events insert, the incremental hourly rollup and the late-usage check, all in one statement) of
// the same batches, through the same connection pool, in the same run. Batches hold 1,000 events,
// 10 % of them keys already sent. Rounds alternate baseline and manager; figures are medians.
//
// Invoices — 1,000 tenants × 30 days of hourly usage (cpu, memory, pods: 2.16 M rollup rows), one
// plan with an allowance and a fee; measured: generating a draft for every tenant (billingService.
// draft: read rollups, rate, store lines). Baseline: one GROUP BY over the same rollups summing
// quantity per tenant and meter — the least any invoicing must read.
// Usage: npm run bench -- ingest [--batches 60] [--rounds 3] [--tenants 1000] [--concurrency 4]
import { parseArgs } from 'node:util';
import { openPostgres } from '../src/db/postgres.ts';
import { migrate } from '../src/db/migrate.ts';
import { migrations } from '../src/db/migrations/index.ts';
import { billingService } from '../src/manager/billing/service.ts';
import type { Call } from '../src/manager/tenancy/service.ts';
import type { UsageEvent } from '../src/schemas/billing.ts';
import { createPostgresDatabase } from '../test/support/databases.ts';
import { machine, pool, recordResult } from './support.ts';

const { values } = parseArgs({
  args: process.argv.slice(2).filter((a) => a !== 'ingest'),
  options: {
    batches: { type: 'string', default: '60' },
    rounds: { type: 'string', default: '3' },
    tenants: { type: 'string', default: '1000' },
    concurrency: { type: 'string', default: '4' },
  },
});
const BATCHES = Number(values.batches);
const ROUNDS = Number(values.rounds);
const TENANTS = Number(values.tenants);
const CONCURRENCY = Number(values.concurrency);
const say = (s: string) => process.stderr.write(`[ingest] ${s}\n`);
const call: Call = { principal: { actor: 'bench', role: 'platform-admin' }, requestId: 'bench' };
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** Batches of 1,000: 900 new events and 100 repeats of keys sent earlier (in this round). */
function batchesFor(round: number): UsageEvent[][] {
  const meters = ['cpu', 'memory', 'pods', 'storage', 'loadbalancers'];
  const sent: UsageEvent[] = [];
  const out: UsageEvent[][] = [];
  let n = 0;
  const t0 = Date.parse('2026-06-01T00:00:00Z') + (round + 1) * 20 * 86_400_000;
  for (let b = 0; b < BATCHES; b++) {
    const batch: UsageEvent[] = [];
    for (let i = 0; i < 900; i++, n++) {
      const tenant = `t${n % 100}`;
      const meter = meters[n % meters.length]!;
      const minute = Math.floor(n / 500);
      const time = new Date(t0 + minute * 60_000).toISOString();
      batch.push({
        key: `bench/${tenant}-p/app${n % 7}/${meter}/${time}/${round}`,
        cluster: 'bench',
        source: 'kubeop-operator',
        tenant,
        project: `${tenant}-p`,
        app: `app${n % 7}`,
        meter,
        quantity: `${(n * 7919) % 100_000}.${String(n % 1000).padStart(3, '0')}`,
        time,
      });
    }
    for (let i = 0; i < 100; i++) {
      const pool = sent.length ? sent : batch;
      batch.push(pool[(b * 100 + i * 37) % pool.length]!);
    }
    sent.push(...batch.slice(0, 900));
    out.push(batch);
  }
  return out;
}

async function main(): Promise<void> {
  const created = await createPostgresDatabase();
  const db = await openPostgres(created.url, { maxConnections: 8 });
  try {
    await migrate(db, migrations);
    await db.exec(`CREATE TABLE bench_events (
      cluster text NOT NULL, source text NOT NULL, key text NOT NULL, tenant text NOT NULL, project text NOT NULL,
      app text NOT NULL, meter text NOT NULL, quantity numeric(38, 6) NOT NULL, at timestamptz NOT NULL,
      hour timestamptz NOT NULL, received_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (cluster, source, key))`);
    const svc = billingService(db);

    const bare = async (batch: UsageEvent[]) => {
      const params: unknown[] = [];
      const rows = batch.map((e) => {
        const base = params.length;
        params.push(
          e.cluster,
          e.source,
          e.key,
          e.tenant,
          e.project,
          e.app ?? '',
          e.meter,
          e.quantity,
          e.time,
        );
        const p = (i: number) => `$${base + i}`;
        return `(${p(1)}, ${p(2)}, ${p(3)}, ${p(4)}, ${p(5)}, ${p(6)}, ${p(7)}, ${p(8)}, ${p(9)}, date_trunc('hour', ${p(9)}::timestamptz, 'UTC'))`;
      });
      const r = await db.query(
        `INSERT INTO bench_events (cluster, source, key, tenant, project, app, meter, quantity, at, hour)
         VALUES ${rows.join(', ')} ON CONFLICT DO NOTHING`,
        params,
      );
      return r.rowCount;
    };
    // A second reference: the same bare insert, with the rows as arrays (as the manager sends them).
    const bareUnnest = async (batch: UsageEvent[]) => {
      const col = (f: (e: UsageEvent) => string) => batch.map(f);
      const r = await db.query(
        `INSERT INTO bench_events (cluster, source, key, tenant, project, app, meter, quantity, at, hour)
         SELECT c, s, k, t, p, a, m, q, at, date_trunc('hour', at, 'UTC')
         FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
                     $8::numeric[], $9::timestamptz[]) AS u(c, s, k, t, p, a, m, q, at)
         ON CONFLICT DO NOTHING`,
        [
          col((e) => e.cluster),
          col((e) => e.source),
          col((e) => e.key + '/u'),
          col((e) => e.tenant),
          col((e) => e.project),
          col((e) => e.app ?? ''),
          col((e) => e.meter),
          col((e) => e.quantity),
          col((e) => e.time),
        ],
      );
      return r.rowCount;
    };
    const run = async (batches: UsageEvent[][], send: (b: UsageEvent[]) => Promise<number>) => {
      let accepted = 0;
      const t0 = performance.now();
      for (const b of batches) accepted += await send(b);
      const s = (performance.now() - t0) / 1000;
      return { eps: (batches.length * 1000) / s, accepted };
    };

    say(`ingestion: ${ROUNDS} rounds × ${BATCHES} batches of 1,000 (10 % duplicates), one batch in flight`);
    // Warm-up on keys of round -1 so both paths have plans cached and tables touched.
    const warm = batchesFor(-1).slice(0, 5);
    await run(warm, bare);
    await run(warm, async (b) => (await svc.ingest(call, b)).accepted);
    const baseEps: number[] = [];
    const ingestEps: number[] = [];
    const unnestEps: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      const batches = batchesFor(r);
      const a = await run(batches, bare);
      const m = await run(batches, async (b) => (await svc.ingest(call, b)).accepted);
      const u = await run(batches, bareUnnest);
      unnestEps.push(u.eps);
      if (a.accepted !== m.accepted)
        throw new Error(`accepted differ: baseline ${a.accepted}, manager ${m.accepted}`);
      baseEps.push(a.eps);
      ingestEps.push(m.eps);
      say(
        `  round ${r + 1}: baseline ${a.eps.toFixed(0)} ev/s, manager ${m.eps.toFixed(0)} ev/s, bare unnest ${u.eps.toFixed(0)} ev/s (${m.accepted} new)`,
      );
    }

    // ---- invoices
    say(`invoices: seeding ${TENANTS} tenants × 720 hours × 3 meters of hourly rollups`);
    await db.exec(`
      INSERT INTO plans (name, currency) VALUES ('bench', 'EUR');
      INSERT INTO plan_versions (plan_id, effective_from) SELECT id, '2026-01-01T00:00:00Z' FROM plans WHERE name = 'bench';
      INSERT INTO plan_prices (plan_id, effective_from, kind, item, unit_price, included)
        SELECT id, '2026-01-01T00:00:00Z', k, i, p, inc FROM plans,
          (VALUES ('meter', 'cpu', 0.031, 100), ('meter', 'memory', 0.0042, 0), ('meter', 'pods', 0.001, 0),
                  ('fee', 'platform', 25, 0)) AS v(k, i, p, inc)
        WHERE name = 'bench';
      INSERT INTO tenant_plans (tenant, effective_from, plan_id)
        SELECT 'inv' || g, '2026-01-01T00:00:00Z', (SELECT id FROM plans WHERE name = 'bench')
        FROM generate_series(1, ${TENANTS}) g;
      INSERT INTO usage_hourly (tenant, hour, project, app, meter, quantity, events)
        SELECT 'inv' || t, h, 'web', 'frontend', m, (t % 17 + 1)::numeric * 3600 * CASE m WHEN 'memory' THEN 1073741824 ELSE 1 END, 60
        FROM generate_series(1, ${TENANTS}) t,
             generate_series('2026-09-01T00:00:00Z'::timestamptz, '2026-09-30T23:00:00Z', '1 hour') h,
             unnest(ARRAY['cpu', 'memory', 'pods']) m;
      ANALYZE usage_hourly;`);
    const tenants = Array.from({ length: TENANTS }, (_, i) => `inv${i + 1}`);
    const t0 = performance.now();
    const { rows: sums } = await db.query(
      `SELECT tenant, meter, sum(quantity)::text FROM usage_hourly
       WHERE tenant LIKE 'inv%' AND hour >= '2026-09-01T00:00:00Z' AND hour < '2026-10-01T00:00:00Z'
       GROUP BY tenant, meter`,
    );
    const baseMs = performance.now() - t0;
    say(
      `  baseline GROUP BY: ${sums.length} sums in ${(baseMs / 1000).toFixed(2)} s; drafting at concurrency ${CONCURRENCY}`,
    );
    let total = 0n;
    const t1 = performance.now();
    await pool(tenants, CONCURRENCY, async (tenant) => {
      const d = await svc.draft(call, tenant, '2026-09-01T00:00:00Z', '2026-10-01T00:00:00Z');
      total += d.invoice.total;
    });
    const draftMs = performance.now() - t1;
    const { rows: lines } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM invoice_lines');

    const ratio = median(ingestEps) / median(baseEps);
    console.log(
      `ingest: PostgreSQL on loopback, batches of 1,000 with 10 % duplicates, median of ${ROUNDS} rounds`,
    );
    console.log(
      `  ingestion              baseline ${median(baseEps).toFixed(0).padStart(7)} ev/s | manager ${median(ingestEps).toFixed(0).padStart(7)} ev/s | ratio ${ratio.toFixed(2)}`,
    );
    console.log(
      `  (bare INSERT … SELECT FROM unnest(arrays) ON CONFLICT DO NOTHING: ${median(unnestEps).toFixed(0)} ev/s; manager / that ${(median(ingestEps) / median(unnestEps)).toFixed(2)})`,
    );
    console.log(
      `  invoices (${TENANTS} tenants × 30 days hourly) baseline GROUP BY ${(baseMs / 1000).toFixed(2)} s | drafts ${(draftMs / 1000).toFixed(1)} s (${(draftMs / TENANTS).toFixed(1)} ms/tenant, ${lines[0]!.n} lines, Σ ${total} minor units) | ratio ${(draftMs / baseMs).toFixed(1)}`,
    );
    console.log(`  machine: ${machine()}`);
    recordResult('ingest', { batches: BATCHES, rounds: ROUNDS, tenants: TENANTS, concurrency: CONCURRENCY }, [
      {
        name: 'ingestion, batches of 1,000',
        unit: 'events/s',
        value: median(ingestEps),
        baseline: median(baseEps),
        better: 'higher',
      },
      {
        name: 'ingestion against a bare unnest insert',
        unit: 'events/s',
        value: median(ingestEps),
        baseline: median(unnestEps),
        better: 'higher',
      },
      {
        name: `invoice drafts, ${TENANTS} tenants`,
        unit: 's',
        value: draftMs / 1000,
        baseline: baseMs / 1000,
        better: 'lower',
      },
    ]);
  } finally {
    await db.close();
    await created.drop();
  }
}

await main();
