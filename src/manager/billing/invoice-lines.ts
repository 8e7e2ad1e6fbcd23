import type { Queryable } from '../../db/database.ts';
import { adjustmentsFor, type BilledLine } from '../../domain/billing/adjustments.ts';
import { currencyExponent } from '../../domain/billing/decimal.ts';
import { hourToIso, monthOf } from '../../domain/billing/hours.ts';
import { checkAmount, ratePeriod, RatingError, type RatedLine } from '../../domain/billing/rating.ts';
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

const describe = (l: RatedLine): string => {
  const since = hourToIso(l.planVersion).slice(0, 10);
  switch (l.kind) {
    case 'fee':
      return `${l.item}: monthly fee of plan ${l.plan}, for ${l.quantity} of a month (charged by the hour)`;
    case 'usage':
      return `${l.item} used by project ${l.project} (plan ${l.plan}, prices from ${since})`;
    case 'allowance':
      return `${l.item} included in plan ${l.plan}`;
    case 'rounding':
      return 'rounding: each line is rounded on the amount accumulated since the start of its month';
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

/**
 * The lines of a tenant's invoice for [start, end): the period rated from the rollups, plus
 * adjustments for late usage of earlier finalized invoices — each such invoice rated again with the
 * usage known now, minus what it and earlier adjustments already billed. Level-triggered: however
 * many late events arrived, and in whatever order, the adjustment is the exact difference. Late usage
 * marks every finalized invoice whose rating depends on it (see dependsOnHour in
 * src/domain/billing/adjustments.ts), not only the one covering its hour.
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
    // What x billed for its own period (not the adjustments it carried for earlier invoices), and
    // what finalized invoices since have added for it.
    const billed: BilledLine[] = [
      ...(await invoiceLines(tx, [x.id]))
        .get(x.id)!
        .flatMap((l) => (l.kind === 'adjustment' ? [] : [{ ...l, kind: l.kind }])),
      ...(await finalizedAdjustmentsOf(tx, x.id)).map((l) => ({ ...l, kind: l.adjustsKind! })),
    ];
    for (const l of adjustmentsFor(now.lines, billed, currencyExponent(now.currency), x.periodStart))
      lines.push({
        ...stored(l),
        kind: 'adjustment',
        adjusts: x.id,
        adjustsKind: l.kind,
        description: `late usage for ${x.number} (${hourToIso(x.periodStart).slice(0, 10)} to ${hourToIso(x.periodEnd).slice(0, 10)}): ${describe(l)}`,
      });
    adjusted.push(x.id);
  }
  let total: bigint;
  try {
    total = checkAmount(
      lines.reduce((t, l) => t + l.amount, 0n),
      'the total',
    );
  } catch (err) {
    return ratingProblem(err);
  }
  return { currency: rating.currency, lines, total, adjusted };
}
