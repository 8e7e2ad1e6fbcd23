import type { Queryable } from '../../db/database.ts';
import { HOUR_MS } from '../../domain/billing/hours.ts';
import type { Assignment, Plan, PlanVersion } from '../../domain/billing/plan.ts';

const ts = (col: string) => `to_char(${col} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')`;
const iso = (hour: number) => new Date(hour * HOUR_MS).toISOString();

export interface PlanRow extends Plan {
  id: string;
  description: string;
  createdAt: string;
}

/** Decimal columns back to strings without trailing zeros ("0.030000000000" → "0.03"). */
const trim = (d: string) => (d.includes('.') ? d.replace(/0+$/, '').replace(/\.$/, '') : d);

export async function insertPlan(
  q: Queryable,
  p: { name: string; currency: string; description: string },
): Promise<string> {
  const { rows } = await q.query<{ id: string }>(
    'INSERT INTO plans (name, currency, description) VALUES ($1, $2, $3) RETURNING id',
    [p.name, p.currency, p.description],
  );
  return rows[0]!.id;
}

export async function insertVersion(q: Queryable, planId: string, v: PlanVersion): Promise<void> {
  const from = iso(v.effectiveFrom);
  await q.query('INSERT INTO plan_versions (plan_id, effective_from) VALUES ($1, $2)', [planId, from]);
  const rows = [
    ...v.prices.map((p) => ['meter', p.meter, p.unitPrice, p.included ?? '0']),
    ...v.fees.map((f) => ['fee', f.name, f.monthlyAmount, '0']),
  ];
  if (rows.length === 0) return;
  await q.query(
    `INSERT INTO plan_prices (plan_id, effective_from, kind, item, unit_price, included)
     SELECT $1, $2, * FROM unnest($3::text[], $4::text[], $5::numeric[], $6::numeric[])`,
    [
      planId,
      from,
      rows.map((r) => r[0]),
      rows.map((r) => r[1]),
      rows.map((r) => r[2]),
      rows.map((r) => r[3]),
    ],
  );
}

export async function getPlan(q: Queryable, name: string): Promise<PlanRow | undefined> {
  return (await loadPlans(q, { names: [name] }))[0];
}

export async function listPlans(q: Queryable): Promise<PlanRow[]> {
  return loadPlans(q, {});
}

async function loadPlans(q: Queryable, opts: { names?: string[]; ids?: string[] }): Promise<PlanRow[]> {
  const where = opts.names ? 'WHERE p.name = ANY($1)' : opts.ids ? 'WHERE p.id = ANY($1::uuid[])' : '';
  const { rows } = await q.query<{
    id: string;
    name: string;
    currency: string;
    description: string;
    createdAt: string;
    from: string | null;
    kind: string | null;
    item: string | null;
    unitPrice: string | null;
    included: string | null;
  }>(
    `SELECT p.id, p.name, p.currency, p.description, ${ts('p.created_at')} AS "createdAt",
       (extract(epoch FROM v.effective_from)::bigint / 3600)::text AS "from",
       pp.kind, pp.item, pp.unit_price::text AS "unitPrice", pp.included::text AS included
     FROM plans p
     LEFT JOIN plan_versions v ON v.plan_id = p.id
     LEFT JOIN plan_prices pp ON pp.plan_id = v.plan_id AND pp.effective_from = v.effective_from
     ${where}
     ORDER BY p.name, v.effective_from, pp.kind, pp.item`,
    opts.names ? [opts.names] : opts.ids ? [opts.ids] : [],
  );
  const plans = new Map<string, PlanRow>();
  for (const r of rows) {
    let plan = plans.get(r.id);
    if (!plan) {
      plan = {
        id: r.id,
        name: r.name,
        currency: r.currency,
        description: r.description,
        createdAt: r.createdAt,
        versions: [],
      };
      plans.set(r.id, plan);
    }
    if (r.from === null) continue;
    const from = Number(r.from);
    let v = plan.versions.at(-1);
    if (!v || v.effectiveFrom !== from)
      plan.versions.push((v = { effectiveFrom: from, prices: [], fees: [] }));
    if (r.kind === 'meter')
      v.prices.push({ meter: r.item!, unitPrice: trim(r.unitPrice!), included: trim(r.included!) });
    else if (r.kind === 'fee') v.fees.push({ name: r.item!, monthlyAmount: trim(r.unitPrice!) });
  }
  return [...plans.values()];
}

export async function deletePlan(q: Queryable, id: string): Promise<void> {
  await q.query('DELETE FROM plans WHERE id = $1', [id]);
}

export async function planIsAssigned(q: Queryable, id: string): Promise<boolean> {
  const { rows } = await q.query('SELECT 1 FROM tenant_plans WHERE plan_id = $1 LIMIT 1', [id]);
  return rows.length > 0;
}

/** End (hour) of the latest finalized invoice priced by this plan, if any. */
export async function lastFinalizedWithPlan(q: Queryable, planName: string): Promise<number | undefined> {
  const { rows } = await q.query<{ end: string | null }>(
    `SELECT (extract(epoch FROM max(i.period_end))::bigint / 3600)::text AS "end"
     FROM invoices i WHERE i.status = 'finalized'
       AND EXISTS (SELECT 1 FROM invoice_lines l WHERE l.invoice_id = i.id AND l.plan = $1)`,
    [planName],
  );
  return rows[0]?.end ? Number(rows[0].end) : undefined;
}

export async function assignPlan(
  q: Queryable,
  tenant: string,
  planId: string,
  fromHour: number,
): Promise<void> {
  await q.query(
    `INSERT INTO tenant_plans (tenant, effective_from, plan_id) VALUES ($1, $2, $3)
     ON CONFLICT (tenant, effective_from) DO UPDATE SET plan_id = EXCLUDED.plan_id, created_at = now()`,
    [tenant, iso(fromHour), planId],
  );
}

/** The tenant's assignments in order, each until the next. */
export async function tenantAssignments(q: Queryable, tenant: string): Promise<Assignment[]> {
  const { rows } = await q.query<{ planId: string; from: string }>(
    `SELECT plan_id AS "planId", (extract(epoch FROM effective_from)::bigint / 3600)::text AS "from"
     FROM tenant_plans WHERE tenant = $1 ORDER BY effective_from`,
    [tenant],
  );
  if (rows.length === 0) return [];
  const plans = new Map(
    (await loadPlans(q, { ids: [...new Set(rows.map((r) => r.planId))] })).map((p) => [p.id, p]),
  );
  return rows.map((r, i) => ({
    plan: plans.get(r.planId)!,
    from: Number(r.from),
    ...(rows[i + 1] ? { to: Number(rows[i + 1]!.from) } : {}),
  }));
}

/** Whether a tenant of this name exists now (billing needs one: plans and invoices are a tenant's). */
export async function tenantExists(q: Queryable, tenant: string): Promise<boolean> {
  const { rows } = await q.query('SELECT 1 FROM tenants WHERE name = $1', [tenant]);
  return rows.length > 0;
}
