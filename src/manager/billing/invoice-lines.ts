import type { Queryable } from '../../db/database.ts';
import { formatDecimal, parseDecimal } from '../../domain/billing/decimal.ts';
import { hourToIso, monthOf } from '../../domain/billing/hours.ts';
import { QUANTITY_SCALE } from '../../domain/billing/meters.ts';
import { ratePeriod, RatingError, type RatedLine } from '../../domain/billing/rating.ts';
import { ApiError } from '../../platform/problem.ts';
import {
  finalizedAdjustmentsOf,
  invoiceLines,
  invoicesWithPendingAdjustments,
  type StoredLine,
} from './invoice-store.ts';
import { tenantAssignments } from './plan-store.ts';
import { tenantUsage } from './usage-store.ts';

// What an invoice of a tenant and period says, line by line: the rated period plus adjustments for
// late usage of earlier finalized invoices. Used for drafts and, again, when finalizing.

const ratingProblem = (err: unknown): never => {
  if (err instanceof RatingError)
    throw new ApiError(422, `KUBEOP_ERR_${err.code}`, err.message, { cause: err });
  throw err;
};

const signed = (s: string, scale: number) =>
  s.startsWith('-') ? -parseDecimal(s.slice(1), scale) : parseDecimal(s, scale);

const describe = (l: RatedLine): string => {
  const since = hourToIso(l.planVersion).slice(0, 10);
  switch (l.kind) {
    case 'fee':
      return `${l.item}: monthly fee of plan ${l.plan}, pro rata for ${l.quantity} hours`;
    case 'usage':
      return `${l.item} used by project ${l.project} (plan ${l.plan}, prices from ${since})`;
    case 'allowance':
      return `${l.item} included in plan ${l.plan}`;
  }
};

const stored = (l: RatedLine): StoredLine => ({
  kind: l.kind,
  project: l.project,
  item: l.item,
  plan: l.plan,
  planVersion: l.planVersion,
  quantity: l.quantity,
  unit: l.unit,
  unitPrice: l.unitPrice,
  amount: l.amount,
  adjusts: null,
  adjustsKind: null,
  description: describe(l),
});

const lineKey = (
  kind: string,
  l: { project: string | null; item: string; plan: string; planVersion: number },
) => `${kind}\0${l.project ?? ''}\0${l.item}\0${l.plan}\0${l.planVersion}`;

/**
 * The lines of a tenant's invoice for [start, end): the period rated from the rollups, plus
 * adjustments for late usage of earlier finalized invoices — each such invoice rated again with the
 * usage known now, minus what it and earlier adjustments already billed. Level-triggered: however
 * many late events arrived, and in whatever order, the adjustment is the exact difference.
 */
export async function computeLines(tx: Queryable, tenant: string, start: number, end: number) {
  const assignments = await tenantAssignments(tx, tenant);
  const rate = async (s: number, e: number) => {
    try {
      return ratePeriod({
        start: s,
        end: e,
        assignments,
        usage: await tenantUsage(tx, tenant, monthOf(s).start, e),
      });
    } catch (err) {
      return ratingProblem(err);
    }
  };
  const rating = await rate(start, end);
  const lines = rating.lines.map(stored);
  const adjusted: string[] = [];
  for (const x of await invoicesWithPendingAdjustments(tx, tenant, start)) {
    const now = await rate(x.periodStart, x.periodEnd);
    if (now.currency !== rating.currency)
      throw new ApiError(
        422,
        'KUBEOP_ERR_MIXED_CURRENCY',
        `late usage of ${x.number} is in ${now.currency}, this invoice in ${rating.currency}`,
      );
    const billed = new Map<string, { quantity: bigint; amount: bigint }>();
    const add = (key: string, quantity: string, amount: bigint) => {
      const b = billed.get(key) ?? { quantity: 0n, amount: 0n };
      b.quantity += signed(quantity, QUANTITY_SCALE);
      b.amount += amount;
      billed.set(key, b);
    };
    for (const l of (await invoiceLines(tx, [x.id])).get(x.id)!)
      add(lineKey(l.kind, l), l.quantity, l.amount);
    for (const l of await finalizedAdjustmentsOf(tx, x.id))
      add(lineKey(l.adjustsKind!, l), l.quantity, l.amount);
    for (const l of now.lines) {
      const b = billed.get(lineKey(l.kind, l)) ?? { quantity: 0n, amount: 0n };
      const dq = signed(l.quantity, QUANTITY_SCALE) - b.quantity;
      const da = l.amount - b.amount;
      if (dq === 0n && da === 0n) continue;
      lines.push({
        ...stored(l),
        kind: 'adjustment',
        quantity: formatDecimal(dq, QUANTITY_SCALE),
        amount: da,
        adjusts: x.id,
        adjustsKind: l.kind,
        description: `late usage for ${x.number} (${hourToIso(x.periodStart).slice(0, 10)} to ${hourToIso(x.periodEnd).slice(0, 10)}): ${describe(l)}`,
      });
    }
    adjusted.push(x.id);
  }
  return { currency: rating.currency, lines, total: lines.reduce((t, l) => t + l.amount, 0n), adjusted };
}
