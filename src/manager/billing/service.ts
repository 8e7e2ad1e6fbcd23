import type { Database, Queryable } from '../../db/database.ts';
import {
  currencyExponent,
  DecimalError,
  formatDecimal,
  parseDecimal,
  roundHalfEven,
} from '../../domain/billing/decimal.ts';
import { exactHour, HOUR_MS, hourToIso } from '../../domain/billing/hours.ts';
import { meter, QUANTITY_ONE, QUANTITY_SCALE } from '../../domain/billing/meters.ts';
import { compileVersion, type PlanVersion } from '../../domain/billing/plan.ts';
import type { CreatePlan, PlanVersionBody, UsageEvent, VoidUsageEvent } from '../../schemas/billing.ts';
import { authorize } from '../access/authorize.ts';
import { confinement } from '../access/policy.ts';
import { computeLines } from './invoice-lines.ts';
import { invoiceView } from './invoice-render.ts';
import { alreadyExists, badRequest, conflict, isUniqueViolation, notFound } from '../http/errors.ts';
import type { Call } from '../tenancy/service.ts';
import { auditSuccess } from '../access/audit-store.ts';
import {
  deleteDraft,
  getInvoice,
  getInvoiceForUpdate,
  invoiceLines,
  invoiceNumbers,
  listInvoices,
  markAdjustmentsApplied,
  markFinalized,
  nextInvoiceNumber,
  overlappingFinalized,
  replaceLines,
  updateDraftTotal,
  upsertDraft,
  type InvoiceRow,
} from './invoice-store.ts';
import {
  assignPlan,
  deletePlan,
  getPlan,
  insertPlan,
  insertVersion,
  lastFinalizedWithPlan,
  listPlans,
  planIsAssigned,
  tenantAssignments,
  tenantExists,
} from './plan-store.ts';
import {
  insertEvents,
  lockForFinalize,
  lockForIngestion,
  usageAnalytics,
  voidEvent,
  type AnalyticsQuery,
} from './usage-store.ts';

/** An hour after any invoice period (year 9999). */
const FAR_FUTURE = Date.UTC(9999, 0, 1) / 3_600_000;

/** How far ahead of the manager's clock an event may be (clock skew between clusters). */
const MAX_FUTURE_MS = 10 * 60_000;

const hourParam = (iso: string, field: string): number => {
  const h = exactHour(iso);
  if (h === undefined)
    throw badRequest(
      'NOT_ON_THE_HOUR',
      `${field} "${iso}" must be a UTC time on the hour, e.g. 2026-11-01T00:00:00Z`,
    );
  return h;
};

/** Plans and invoices belong to a tenant that exists (usage may arrive for any name; see the docs). */
const requireTenant = async (q: Queryable, tenant: string) => {
  if (!(await tenantExists(q, tenant))) throw notFound('tenant', tenant);
};

/** Usage ingestion, plans, invoices and analytics (see docs/concepts/billing.md). */
export function billingService(db: Database) {
  async function invoiceOrThrow(call: Call, id: string): Promise<InvoiceRow> {
    const inv = await getInvoice(db, id);
    if (!inv) throw notFound('invoice', id);
    authorize(call, 'invoice.read', { tenant: inv.tenant }, () => notFound('invoice', id));
    return inv;
  }

  const versionOf = (currency: string, planName: string, body: PlanVersionBody): PlanVersion => {
    const v: PlanVersion = {
      effectiveFrom: hourParam(body.effectiveFrom, 'effectiveFrom'),
      prices: body.prices.map((p) => ({
        meter: p.meter,
        unitPrice: p.unitPrice,
        ...(p.included ? { included: p.included } : {}),
      })),
      fees: body.fees ?? [],
    };
    try {
      compileVersion(planName, currency, v);
    } catch (err) {
      if (err instanceof DecimalError) throw badRequest('PLAN_INVALID', err.message);
      throw err;
    }
    return v;
  };

  return {
    async ingest(
      call: Call,
      events: UsageEvent[],
    ): Promise<{ accepted: number; duplicates: number; conflicts: number }> {
      authorize(call, 'usage.ingest');
      const limit = Date.now() + MAX_FUTURE_MS;
      const rows = events.map((e, i) => {
        const at = Date.parse(e.time);
        if (!Number.isFinite(at))
          throw badRequest('VALIDATION', `events/${i}/time "${e.time}" is not a timestamp`);
        if (at > limit)
          throw badRequest(
            'USAGE_IN_FUTURE',
            `events/${i}/time ${e.time} is in the future; send usage after it is measured`,
          );
        return { ...e, app: e.app ?? '', time: new Date(at).toISOString() };
      });
      const { accepted, conflicts } = await db.transaction(async (tx) => {
        await lockForIngestion(tx);
        return insertEvents(tx, rows);
      });
      return { accepted, duplicates: events.length - accepted - conflicts, conflicts };
    },

    /**
     * Corrects usage: the event is voided (kept, its key still used), its quantity leaves the rollup,
     * and if a finalized invoice depended on it the next invoice carries the negative difference.
     * To replace a wrong quantity, void the event and send the right one under a new key.
     */
    async voidEvent(call: Call, body: VoidUsageEvent) {
      authorize(call, 'usage.void');
      return db.transaction(async (tx) => {
        await lockForIngestion(tx);
        const v = await voidEvent(tx, body, body.reason);
        if (v === undefined) throw notFound('usage_event', `${body.cluster}/${body.source}/${body.key}`);
        if (v === 'voided')
          throw conflict('USAGE_EVENT_VOIDED', `usage event "${body.key}" is already voided`);
        await auditSuccess(tx, call, 'void', 'usage-event', body.key, null, {
          cluster: v.cluster,
          source: v.source,
          tenant: v.tenant,
          meter: v.meter,
          quantity: v.quantity,
          time: v.time,
          reason: v.reason,
        });
        return v;
      });
    },

    // ---- plans
    async createPlan(call: Call, body: CreatePlan) {
      authorize(call, 'plan.manage');
      const version = versionOf(body.currency, body.name, body);
      try {
        await db.transaction(async (tx) => {
          const id = await insertPlan(tx, {
            name: body.name,
            currency: body.currency,
            description: body.description ?? '',
          });
          await insertVersion(tx, id, version);
          await auditSuccess(tx, call, 'create', 'plan', body.name, null);
        });
      } catch (err) {
        if (isUniqueViolation(err)) throw alreadyExists('plan', body.name);
        throw err;
      }
      return (await getPlan(db, body.name))!;
    },

    async addVersion(call: Call, name: string, body: PlanVersionBody) {
      authorize(call, 'plan.manage');
      const plan = await getPlan(db, name);
      if (!plan) throw notFound('plan', name);
      const version = versionOf(plan.currency, name, body);
      await db.transaction(async (tx) => {
        const billedUntil = await lastFinalizedWithPlan(tx, name);
        if (billedUntil !== undefined && version.effectiveFrom < billedUntil)
          throw conflict(
            'PRICE_CHANGE_IN_BILLED_PERIOD',
            `plan "${name}" priced an invoice finalized up to ${hourToIso(billedUntil)}; new prices may take effect from then on`,
          );
        if (plan.versions.some((v) => v.effectiveFrom === version.effectiveFrom))
          throw conflict(
            'PLAN_VERSION_EXISTS',
            `plan "${name}" already has prices from ${body.effectiveFrom}`,
          );
        await insertVersion(tx, plan.id, version);
        await auditSuccess(tx, call, 'update', 'plan', name, null, { effectiveFrom: body.effectiveFrom });
      });
      return (await getPlan(db, name))!;
    },

    async getPlan(call: Call, name: string) {
      authorize(call, 'plan.read');
      const plan = await getPlan(db, name);
      if (!plan) throw notFound('plan', name);
      return plan;
    },

    async listPlans(call: Call) {
      authorize(call, 'plan.read');
      return listPlans(db);
    },

    async deletePlan(call: Call, name: string) {
      authorize(call, 'plan.manage');
      await db.transaction(async (tx) => {
        const plan = await getPlan(tx, name);
        if (!plan) throw notFound('plan', name);
        if (await planIsAssigned(tx, plan.id))
          throw conflict(
            'PLAN_IN_USE',
            `plan "${name}" is or was assigned to a tenant; it stays for their invoices`,
          );
        await deletePlan(tx, plan.id);
        await auditSuccess(tx, call, 'delete', 'plan', name, null);
      });
    },

    async assign(call: Call, tenant: string, planName: string, fromIso: string) {
      authorize(call, 'plan.assign');
      const from = hourParam(fromIso, 'effectiveFrom');
      await db.transaction(async (tx) => {
        await requireTenant(tx, tenant);
        const plan = await getPlan(tx, planName);
        if (!plan) throw notFound('plan', planName);
        const billed = await overlappingFinalized(tx, tenant, from, FAR_FUTURE);
        if (billed.length > 0)
          throw conflict(
            'PLAN_CHANGE_IN_BILLED_PERIOD',
            `tenant "${tenant}" has a finalized invoice (${billed[0]!.number}) after ${fromIso}; a plan change may take effect from ${hourToIso(Math.max(...billed.map((b) => b.periodEnd)))}`,
          );
        await assignPlan(tx, tenant, plan.id, from);
        await auditSuccess(tx, call, 'assign-plan', 'tenant', tenant, null, {
          plan: planName,
          effectiveFrom: fromIso,
        });
      });
      return this.assignments(call, tenant);
    },

    async assignments(call: Call, tenant: string) {
      authorize(call, 'plan.assignments', { tenant }, () => notFound('tenant', tenant));
      await requireTenant(db, tenant);
      const list = await tenantAssignments(db, tenant);
      return {
        tenant,
        assignments: list.map((a) => ({ plan: a.plan.name, effectiveFrom: hourToIso(a.from) })),
      };
    },

    // ---- invoices
    /** A draft for the tenant and period, generated again if one exists. */
    async draft(call: Call, tenant: string, startIso: string, endIso: string) {
      authorize(call, 'invoice.manage');
      const start = hourParam(startIso, 'periodStart');
      const end = hourParam(endIso, 'periodEnd');
      if (end <= start) throw badRequest('VALIDATION', 'periodEnd must be after periodStart');
      const out = await db.transaction(async (tx) => {
        await requireTenant(tx, tenant);
        const billed = await overlappingFinalized(tx, tenant, start, end);
        if (billed.length > 0)
          throw conflict(
            'INVOICE_PERIOD_FINALIZED',
            `invoice ${billed[0]!.number} of tenant "${tenant}" already covers part of this period`,
          );
        const c = await computeLines(tx, tenant, start, end);
        const d = await upsertDraft(tx, { tenant, start, end, currency: c.currency, total: c.total });
        await replaceLines(tx, d.id, c.lines);
        return d;
      });
      return { invoice: (await getInvoice(db, out.id))!, created: out.created };
    },

    /**
     * Finalizes a draft: rates the period again under the ingestion lock (so nothing that arrived
     * since the draft is missed, and nothing arriving now can slip between), numbers it, and
     * records which late usage it carried. After this the invoice and its lines never change.
     */
    async finalize(call: Call, id: string) {
      authorize(call, 'invoice.manage');
      const inv = await getInvoice(db, id);
      if (!inv) throw notFound('invoice', id);
      await db.transaction(async (tx) => {
        await lockForFinalize(tx);
        await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`kubeop-invoices/${inv.tenant}`]);
        const current = await getInvoiceForUpdate(tx, id);
        if (!current) throw notFound('invoice', id);
        if (current.status === 'finalized')
          throw conflict('INVOICE_FINALIZED', `invoice ${current.number} is already finalized`);
        await requireTenant(tx, current.tenant);
        // A period still running would be billed before its usage is in: refused, so that a finalized
        // invoice only ever changes through late usage, never through the normal course of a period.
        if (current.periodEnd * HOUR_MS > Date.now())
          throw conflict(
            'PERIOD_NOT_ENDED',
            `the period of this invoice ends at ${hourToIso(current.periodEnd)}; finalize it after that (a draft can be generated any time)`,
          );
        const billed = await overlappingFinalized(tx, current.tenant, current.periodStart, current.periodEnd);
        if (billed.length > 0)
          throw conflict(
            'INVOICE_PERIOD_FINALIZED',
            `invoice ${billed[0]!.number} of tenant "${current.tenant}" already covers part of this period`,
          );
        const c = await computeLines(tx, current.tenant, current.periodStart, current.periodEnd);
        await replaceLines(tx, id, c.lines);
        await updateDraftTotal(tx, id, c.currency, c.total);
        const number = await nextInvoiceNumber(tx);
        await markFinalized(tx, id, number, c.total);
        await markAdjustmentsApplied(tx, id, c.adjusted);
        await auditSuccess(tx, call, 'finalize', 'invoice', number, null, {
          tenant: current.tenant,
          total: c.total.toString(),
        });
      });
      return (await getInvoice(db, id))!;
    },

    async getInvoice(call: Call, id: string) {
      const inv = await invoiceOrThrow(call, id);
      const lines = (await invoiceLines(db, [id])).get(id)!;
      const numbers = await invoiceNumbers(db, [
        ...new Set(lines.flatMap((l) => (l.adjusts ? [l.adjusts] : []))),
      ]);
      return invoiceView(inv, lines, numbers);
    },

    async listInvoices(call: Call, opts: { tenant?: string; status?: string; limit: number }) {
      authorize(call, 'invoice.list');
      const own = confinement(call.principal).tenant;
      if (own === undefined) return listInvoices(db, opts);
      if (opts.tenant && opts.tenant !== own) throw notFound('tenant', opts.tenant);
      return listInvoices(db, { ...opts, tenant: own });
    },

    async deleteDraft(call: Call, id: string) {
      authorize(call, 'invoice.manage');
      const inv = await getInvoice(db, id);
      if (!inv) throw notFound('invoice', id);
      if (inv.status === 'finalized')
        throw conflict('INVOICE_FINALIZED', `invoice ${inv.number} is finalized and cannot be deleted`);
      await db.transaction(async (tx) => {
        await deleteDraft(tx, id);
        await auditSuccess(tx, call, 'delete', 'invoice', id, null, { tenant: inv.tenant });
      });
    },

    // ---- analytics
    async analytics(call: Call, q: AnalyticsQuery) {
      const from = hourParam(q.from, 'from');
      const to = hourParam(q.to, 'to');
      if (to <= from) throw badRequest('VALIDATION', '"to" must be after "from"');
      const scoped = { ...q };
      authorize(call, 'analytics.read');
      const own = confinement(call.principal);
      if (own.tenant !== undefined) {
        if (q.tenant && q.tenant !== own.tenant) throw notFound('tenant', q.tenant);
        scoped.tenant = own.tenant;
      }
      if (own.project !== undefined) {
        if (q.project && q.project !== own.project) throw notFound('project', q.project);
        scoped.project = own.project;
      }
      const rows = await usageAnalytics(db, scoped);
      return rows.map((r) => {
        const m = meter(r.meter);
        const exp = r.currency ? currencyExponent(r.currency) : 0;
        const cost = roundHalfEven(
          parseDecimal(r.cost, 18) * 10n ** BigInt(exp),
          10n ** 18n * m.basePerPriceUnit,
        );
        return {
          bucket: r.bucket,
          tenant: r.tenant,
          ...(r.project !== null ? { project: r.project } : {}),
          ...(r.app !== null ? { app: r.app } : {}),
          meter: r.meter,
          quantity: formatDecimal(
            roundHalfEven(
              parseDecimal(r.quantity, QUANTITY_SCALE) * QUANTITY_ONE,
              QUANTITY_ONE * m.basePerPriceUnit,
            ),
            QUANTITY_SCALE,
          ),
          unit: m.priceUnit,
          costMinor: cost,
          cost: formatDecimal(cost, exp, exp),
          currency: r.currency,
        };
      });
    },
  };
}

export type BillingService = ReturnType<typeof billingService>;
