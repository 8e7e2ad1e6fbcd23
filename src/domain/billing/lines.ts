import { formatDecimal, parseDecimal, roundHalfEven } from './decimal.ts';
import { QUANTITY_SCALE } from './meters.ts';
import { PRICE_ONE, PRICE_SCALE } from './plan.ts';
import type { RatedLine } from './rating.ts';

/**
 * Lines that multiply out. Every invoice line shows a quantity (6 decimals) and a unit price (12
 * decimals), and its amount is exactly `quantity × unit price` rounded half-even to the minor unit,
 * so anyone can check a line with a calculator.
 *
 * The rating rule (round once per line and month on the amount accumulated since the month began)
 * is what makes split invoices add up; a part of a month rounded on its own can differ from it by a
 * minor unit or so per line. That difference is not hidden in the lines: it is one `rounding` line
 * per invoice (and per corrected invoice, for adjustments), whose quantity is a count of minor units
 * at the price of one minor unit, so it multiplies out too. The total is unchanged.
 */
const signed = (s: string, scale: number): bigint =>
  s.startsWith('-') ? -parseDecimal(s.slice(1), scale) : parseDecimal(s, scale);

/** round(quantity × unitPrice) in minor units of a currency with exponent `exp`. */
export function lineAmount(quantity: string, unitPrice: string, exp: number): bigint {
  return roundHalfEven(
    signed(quantity, QUANTITY_SCALE) * parseDecimal(unitPrice, PRICE_SCALE) * 10n ** BigInt(exp),
    10n ** BigInt(QUANTITY_SCALE) * PRICE_ONE,
  );
}

/** The rounding line of a period: `minor` minor units (quantity) × one minor unit (unit price). */
export function roundingLine(minor: bigint, exp: number, periodStart: number): RatedLine {
  return {
    kind: 'rounding',
    project: null,
    item: 'rounding',
    plan: '',
    planVersion: periodStart,
    quantity: minor.toString(),
    unit: 'minor unit',
    unitPrice: formatDecimal(1n, exp),
    amount: minor,
  };
}

/**
 * Sets every line's amount to round(quantity × unit price) and moves what that changes into the
 * period's rounding line (created, or merged into the one among `lines`). The sum is unchanged.
 */
export function multiplyOut(lines: readonly RatedLine[], exp: number, periodStart: number): RatedLine[] {
  let rest = 0n;
  const out: RatedLine[] = [];
  for (const l of lines) {
    if (l.kind === 'rounding') {
      rest += l.amount;
      continue;
    }
    const amount = lineAmount(l.quantity, l.unitPrice, exp);
    rest += l.amount - amount;
    out.push({ ...l, amount });
  }
  if (rest !== 0n) out.push(roundingLine(rest, exp, periodStart));
  return out;
}
