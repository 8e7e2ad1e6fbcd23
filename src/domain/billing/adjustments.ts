import { formatDecimal, parseDecimal } from './decimal.ts';
import { monthOf } from './hours.ts';
import { multiplyOut } from './lines.ts';
import { QUANTITY_SCALE } from './meters.ts';
import type { RatedLine } from './rating.ts';

/**
 * Late usage and the invoices it changes.
 *
 * An invoice for [s, e) is rated from the usage of its month(s) from the month's start up to e: the
 * included allowance used so far and the month's cumulative rounding base both come from the hours
 * before s. So usage for hour h changes not only the invoice covering h but every invoice of the
 * same calendar month that ends after h. Each of them is rated again, and the difference from what
 * it billed is carried by a later invoice. Because the rating telescopes, the invoices of a month,
 * in whatever number and with whatever late usage, then add up to what one invoice of the whole
 * month would say.
 */
export interface Period {
  start: number;
  end: number;
}

/** Whether the rating of `period` depends on usage in `hour`: it ends after the hour, in the hour's month. */
export function dependsOnHour(period: Period, hour: number): boolean {
  return period.end > hour && period.start < monthOf(hour).end;
}

/** One line as billed (a finalized invoice's line, or an earlier adjustment of it): a rated line. */
export type BilledLine = RatedLine;

export const lineKey = (
  kind: string,
  l: { project: string | null; item: string; plan: string; planVersion: number },
): string => `${kind}\0${l.project ?? ''}\0${l.item}\0${l.plan}\0${l.planVersion}`;

const signed = (s: string): bigint =>
  s.startsWith('-') ? -parseDecimal(s.slice(1), QUANTITY_SCALE) : parseDecimal(s, QUANTITY_SCALE);

/**
 * What is still to bill for a period: its lines rated now minus everything billed for it so far, per
 * line. A line billed before but absent now (its usage was voided) is reversed in full. Lines with
 * no difference are left out. The quantity is a decimal string; amounts are minor units, each
 * round(quantity × unit price), the rest on the period's rounding line (lines.ts).
 */
export function adjustmentsFor(
  now: readonly RatedLine[],
  billed: readonly BilledLine[],
  exp: number,
  periodStart: number,
): RatedLine[] {
  const sums = new Map<string, { line: BilledLine; quantity: bigint; amount: bigint }>();
  for (const l of billed) {
    const k = lineKey(l.kind, l);
    const s = sums.get(k) ?? { line: l, quantity: 0n, amount: 0n };
    s.quantity += signed(l.quantity);
    s.amount += l.amount;
    sums.set(k, s);
  }
  const out: RatedLine[] = [];
  const seen = new Set<string>();
  for (const l of now) {
    const k = lineKey(l.kind, l);
    seen.add(k);
    const b = sums.get(k);
    const dq = signed(l.quantity) - (b?.quantity ?? 0n);
    const da = l.amount - (b?.amount ?? 0n);
    if (dq !== 0n || da !== 0n) out.push({ ...l, quantity: formatDecimal(dq, QUANTITY_SCALE), amount: da });
  }
  for (const [k, b] of sums) {
    if (seen.has(k) || (b.quantity === 0n && b.amount === 0n)) continue;
    out.push({ ...b.line, quantity: formatDecimal(-b.quantity, QUANTITY_SCALE), amount: -b.amount });
  }
  // Each difference multiplies out too; what rounding each on its own changes is the rounding line's.
  return multiplyOut(out, exp, periodStart);
}
