import type { Queryable } from '../../db/database.ts';
import { parseDecimal } from '../../domain/billing/decimal.ts';
import { HOUR_MS } from '../../domain/billing/hours.ts';
import { QUANTITY_SCALE } from '../../domain/billing/meters.ts';
import type { UsageRow } from '../../domain/billing/rating.ts';
import type { UsageEvent } from '../../schemas/billing.ts';

/** One event as stored: the API's shape with the app filled in ('' for the project itself). */
export type EventRow = Required<UsageEvent>;

/**
 * Inserts a batch of events and folds the new ones into the hourly rollup, in one statement.
 *
 * Contract: an event whose (cluster, source, key) is already stored — from an earlier batch, the
 * same batch, or a concurrent transaction (which the unique index makes wait for the first to
 * commit) — is not inserted and so never reaches the rollup: retries never double-count. Rows are
 * inserted in key order and rollups in rollup-key order, so concurrent batches lock in the same order
 * and cannot deadlock. `conflicts` counts events not inserted whose key is stored with another
 * payload. New events are recorded in usage_adjustments against every finalized invoice
 * of their tenant whose rating depends on their hour — each one of the hour's month that ends after
 * it (allowances used so far and the month's rounding base), as dependsOnHour in
 * src/domain/billing/adjustments.ts says — for the tenant's next invoice to rate those again.
 *
 * Must run in a transaction that first called `lockForIngestion`.
 */
export async function insertEvents(
  q: Queryable,
  events: EventRow[],
): Promise<{ accepted: number; late: number; conflicts: number }> {
  const col = <K extends keyof EventRow>(k: K) => events.map((e) => e[k]);
  // The batch as column arrays, in the order of the unnest($1 … $9) both statements below read.
  const columns = (
    ['cluster', 'source', 'key', 'tenant', 'project', 'app', 'meter', 'quantity', 'time'] as const
  ).map(col);
  const { rows } = await q.query<{ accepted: number; late: number }>(
    `WITH input AS (
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
                            $8::numeric[], $9::timestamptz[])
         AS t(cluster, source, key, tenant, project, app, meter, quantity, at)
       ORDER BY cluster, source, key
     ),
     ins AS (
       INSERT INTO usage_events (cluster, source, key, tenant, project, app, meter, quantity, at, hour)
       SELECT cluster, source, key, tenant, project, app, meter, quantity, at, date_trunc('hour', at, 'UTC')
       FROM input
       ON CONFLICT DO NOTHING
       RETURNING tenant, hour, project, app, meter, quantity
     ),
     agg AS (
       SELECT tenant, hour, project, app, meter, sum(quantity) AS quantity, count(*)::int AS events
       FROM ins GROUP BY tenant, hour, project, app, meter
     ),
     rolled AS (
       INSERT INTO usage_hourly AS h (tenant, hour, project, app, meter, quantity, events)
       SELECT * FROM agg ORDER BY tenant, hour, project, app, meter
       ON CONFLICT (tenant, hour, project, app, meter)
       DO UPDATE SET quantity = h.quantity + EXCLUDED.quantity, events = h.events + EXCLUDED.events
     ),
     late AS (
       INSERT INTO usage_adjustments (invoice_id, tenant, project, app, meter, hour, quantity)
       SELECT i.id, a.tenant, a.project, a.app, a.meter, a.hour, a.quantity
       FROM agg a JOIN invoices i
         ON i.tenant = a.tenant AND i.status = 'finalized' AND i.period_end > a.hour
         AND i.period_start < (date_trunc('month', a.hour AT TIME ZONE 'UTC') + interval '1 month') AT TIME ZONE 'UTC'
       RETURNING 1
     )
     SELECT (SELECT count(*)::int FROM ins) AS accepted, (SELECT count(*)::int FROM late) AS late`,
    columns,
  );
  // An event not inserted whose stored event (under the same key) says something else: the sender
  // reused a key for other usage. It is not counted (the first payload stands) but reported, so a
  // broken sender does not lose usage silently. Seen after the insert, so a key sent twice in this
  // batch with two payloads conflicts too.
  const conflicts = await q.query<{ n: number }>(
    `SELECT count(*)::int AS n
     FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
                 $8::numeric[], $9::timestamptz[])
       AS t(cluster, source, key, tenant, project, app, meter, quantity, at)
     JOIN usage_events e ON e.cluster = t.cluster AND e.source = t.source AND e.key = t.key
     WHERE (e.tenant, e.project, e.app, e.meter, e.quantity, e.at)
       IS DISTINCT FROM (t.tenant, t.project, t.app, t.meter, t.quantity, t.at)`,
    columns,
  );
  return { ...rows[0]!, conflicts: conflicts.rows[0]!.n };
}

/**
 * Ingestion and invoice finalization exclude each other through the rollup table's lock: a batch
 * takes ROW EXCLUSIVE before it reads which invoices are finalized, finalization takes SHARE before
 * it reads the rollups. So every event is either in a finalized invoice or recorded as late, never
 * neither.
 */
export async function lockForIngestion(q: Queryable): Promise<void> {
  await q.query('LOCK TABLE usage_hourly IN ROW EXCLUSIVE MODE');
}

export async function lockForFinalize(q: Queryable): Promise<void> {
  await q.query('LOCK TABLE usage_hourly IN SHARE MODE');
}

/** A tenant's hourly usage per project and meter over [fromHour, toHour), for rating. */
export async function tenantUsage(
  q: Queryable,
  tenant: string,
  fromHour: number,
  toHour: number,
): Promise<UsageRow[]> {
  const { rows } = await q.query<{ h: string; project: string; meter: string; quantity: string }>(
    `SELECT (extract(epoch FROM hour)::bigint / 3600)::text AS h, project, meter, sum(quantity)::text AS quantity
     FROM usage_hourly WHERE tenant = $1 AND hour >= $2 AND hour < $3
     GROUP BY hour, project, meter`,
    [tenant, new Date(fromHour * HOUR_MS).toISOString(), new Date(toHour * HOUR_MS).toISOString()],
  );
  return rows.map((r) => ({
    hour: Number(r.h),
    project: r.project,
    meter: r.meter,
    quantity: parseDecimal(r.quantity, QUANTITY_SCALE),
  }));
}

export interface AnalyticsRow {
  bucket: string;
  tenant: string;
  project: string | null;
  app: string | null;
  meter: string;
  quantity: string;
  /** Σ quantity (micro base units, as a decimal of base units) × unit price in force; exact. */
  cost: string;
  currency: string | null;
}

/**
 * Usage per bucket, group and meter with its cost at the unit price in force at each hour (the
 * tenant's plan assignment, then the plan's version), before allowances and fees.
 */
/** What an analytics query asks for: a period, its buckets, the grouping and optional filters. */
export interface AnalyticsQuery {
  from: string;
  to: string;
  granularity: 'hour' | 'day' | 'month' | 'all';
  groupBy: 'tenant' | 'project' | 'app';
  tenant?: string;
  project?: string;
  meter?: string;
}

export async function usageAnalytics(q: Queryable, opts: AnalyticsQuery): Promise<AnalyticsRow[]> {
  const params: unknown[] = [opts.from, opts.to];
  const where = ['u.hour >= $1', 'u.hour < $2'];
  for (const [col, v] of [
    ['tenant', opts.tenant],
    ['project', opts.project],
    ['meter', opts.meter],
  ] as const) {
    if (v === undefined) continue;
    params.push(v);
    where.push(`u.${col} = $${params.length}`);
  }
  const project = opts.groupBy === 'tenant' ? 'NULL::text' : 'u.project';
  const app = opts.groupBy === 'app' ? 'u.app' : 'NULL::text';
  const bucket =
    opts.granularity === 'all' ? `$1::timestamptz` : `date_trunc('${opts.granularity}', u.hour, 'UTC')`;
  const { rows } = await q.query<AnalyticsRow>(
    `SELECT to_char(${bucket} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS bucket,
       u.tenant, ${project} AS project, ${app} AS app, u.meter,
       sum(u.quantity)::text AS quantity,
       sum(u.quantity * coalesce(pp.unit_price, 0))::text AS cost,
       p.currency
     FROM usage_hourly u
     LEFT JOIN LATERAL (
       SELECT plan_id FROM tenant_plans tp WHERE tp.tenant = u.tenant AND tp.effective_from <= u.hour
       ORDER BY tp.effective_from DESC LIMIT 1) tp ON true
     LEFT JOIN LATERAL (
       SELECT effective_from FROM plan_versions pv WHERE pv.plan_id = tp.plan_id AND pv.effective_from <= u.hour
       ORDER BY pv.effective_from DESC LIMIT 1) pv ON true
     LEFT JOIN plan_prices pp ON pp.plan_id = tp.plan_id AND pp.effective_from = pv.effective_from
       AND pp.kind = 'meter' AND pp.item = u.meter
     LEFT JOIN plans p ON p.id = tp.plan_id
     WHERE ${where.join(' AND ')}
     GROUP BY 1, u.tenant, 3, 4, u.meter, p.currency
     ORDER BY 1, u.tenant, 3, 4, u.meter`,
    params,
  );
  return rows;
}

export interface VoidedEvent {
  cluster: string;
  source: string;
  key: string;
  tenant: string;
  project: string;
  app: string;
  meter: string;
  quantity: string;
  time: string;
  voidedAt: string;
  reason: string;
}

/**
 * Voids one stored event: marks it (it stays, and its key stays used), takes its quantity out of the
 * hourly rollup, and records the negative quantity as late usage of every finalized invoice whose
 * rating depended on it (the same rule as insertEvents). Returns undefined when no such event
 * exists, `'voided'` when it already was voided.
 *
 * Must run in a transaction that first called `lockForIngestion`.
 */
export async function voidEvent(
  q: Queryable,
  id: { cluster: string; source: string; key: string },
  reason: string,
): Promise<VoidedEvent | 'voided' | undefined> {
  const { rows } = await q.query<VoidedEvent>(
    `WITH v AS (
       UPDATE usage_events SET voided_at = now(), void_reason = $4
       WHERE cluster = $1 AND source = $2 AND key = $3 AND voided_at IS NULL
       RETURNING *
     ),
     rolled AS (
       UPDATE usage_hourly h SET quantity = h.quantity - v.quantity, events = h.events - 1
       FROM v WHERE h.tenant = v.tenant AND h.hour = v.hour AND h.project = v.project AND h.app = v.app
         AND h.meter = v.meter
     ),
     late AS (
       INSERT INTO usage_adjustments (invoice_id, tenant, project, app, meter, hour, quantity)
       SELECT i.id, v.tenant, v.project, v.app, v.meter, v.hour, -v.quantity
       FROM v JOIN invoices i
         ON i.tenant = v.tenant AND i.status = 'finalized' AND i.period_end > v.hour
         AND i.period_start < (date_trunc('month', v.hour AT TIME ZONE 'UTC') + interval '1 month') AT TIME ZONE 'UTC'
     )
     SELECT cluster, source, key, tenant, project, app, meter,
       trim_scale(quantity)::text AS quantity,
       to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS time,
       to_char(voided_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS "voidedAt",
       void_reason AS reason
     FROM v`,
    [id.cluster, id.source, id.key, reason],
  );
  if (rows[0]) return rows[0];
  const { rows: existing } = await q.query(
    'SELECT 1 FROM usage_events WHERE cluster = $1 AND source = $2 AND key = $3',
    [id.cluster, id.source, id.key],
  );
  return existing.length > 0 ? 'voided' : undefined;
}
