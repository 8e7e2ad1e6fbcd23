import { currencyExponent, formatDecimal, parseDecimal, roundHalfEven } from './decimal.ts';
import { monthOf } from './hours.ts';
import { multiplyOut } from './lines.ts';
import { meter, QUANTITY_ONE, QUANTITY_SCALE } from './meters.ts';
import { PRICE_ONE, versionResolver, type Assignment, type CompiledVersion } from './plan.ts';

/** Usage of one meter by one project in one hour, in micro base units (see meters.ts). */
export interface UsageRow {
  hour: number;
  project: string;
  meter: string;
  quantity: bigint;
}

export type LineKind = 'fee' | 'usage' | 'allowance' | 'rounding';

export interface RatedLine {
  kind: LineKind;
  /** The project for usage lines; null for fees and allowances, which are tenant-wide. */
  project: string | null;
  /** The meter (usage, allowance) or the fee's name. */
  item: string;
  plan: string;
  /** Hour the plan version took effect: which prices were used. */
  planVersion: number;
  /**
   * In `unit`, rounded half-even to 6 decimals; `amount` is exactly quantity × unitPrice rounded
   * half-even (see lines.ts). Fees count in months: the hours charged over the hours of the month.
   */
  quantity: string;
  unit: string;
  /** Major currency units per `unit`. */
  unitPrice: string;
  /** Minor currency units; negative for allowances. */
  amount: bigint;
}

export interface Rating {
  currency: string;
  lines: RatedLine[];
  /** Always the sum of the line amounts. */
  total: bigint;
}

export type RatingErrorCode = 'NO_PLAN' | 'MIXED_CURRENCY' | 'BAD_PERIOD' | 'AMOUNT_TOO_LARGE';

/**
 * The largest amount a line or an invoice may have, in minor units: 18 digits, inside the bigint
 * columns that store it. The API's bounds on quantities and prices keep single events far below it,
 * but many events add up; an invoice beyond it is refused (and its usage can be voided).
 */
export const MAX_AMOUNT = 10n ** 18n - 1n;

/** Throws AMOUNT_TOO_LARGE when an amount cannot be stored; `what` names it. */
export function checkAmount(amount: bigint, what: string): bigint {
  if (amount > MAX_AMOUNT || amount < -MAX_AMOUNT)
    throw new RatingError(
      'AMOUNT_TOO_LARGE',
      `${what} comes to ${amount} minor units, more than the 18 digits an invoice holds; check the usage (POST /v1/usage/events/void corrects a wrong event)`,
    );
  return amount;
}

export class RatingError extends Error {
  readonly code: RatingErrorCode;
  constructor(code: RatingErrorCode, message: string) {
    super(message);
    this.name = 'RatingError';
    this.code = code;
  }
}

interface Acc {
  line: Omit<RatedLine, 'quantity' | 'amount'>;
  /** Per month: exact amount = cumulative × num / den (minor units). */
  num: bigint;
  den: bigint;
  sign: bigint;
  monthBefore: bigint;
  monthUpto: bigint;
  quantity: bigint;
  amount: bigint;
  /** Converts `quantity` to display units: quantity × 10^6 / displayDen. */
  displayDen: bigint;
}

const kindOrder: Record<LineKind, number> = { fee: 0, usage: 1, allowance: 2, rounding: 3 };

/**
 * Prices a tenant's usage over the hours [start, end).
 *
 * Contract — the rounding rule: every line's exact amount is a fraction of the minor unit; it is
 * rounded half-even, once per line and calendar month, on the amount accumulated since the start of
 * that month: amount(line, [s, e)) = Σ over months of round(C(min(e, month end))) − round(C(max(s,
 * month start))), where C(t) is the exact amount from the month start to t. Consequences: an invoice
 * for a whole month is exactly round(quantity × price) per line; the total is the sum of the lines;
 * and splitting a period at any hour never changes the total (the differences telescope), so late
 * adjustments and part-month invoices add up to what one invoice would have said.
 *
 * Each hour is priced by the plan version in force at that hour (assignment, then the version's
 * effective hour), so a plan change mid-period gives each part its own lines at its own prices.
 * Included allowances are tenant-wide per plan, meter and calendar month: the first units used in
 * a month under a plan that prices the meter are free, whichever project used them, shown as a
 * negative `allowance` line; a plan taking over mid-month brings its full allowance. Fees accrue by hour:
 * monthly amount × hours / hours in that month.
 */
export function ratePeriod(input: {
  start: number;
  end: number;
  assignments: readonly Assignment[];
  usage: Iterable<UsageRow>;
}): Rating {
  const { start, end } = input;
  if (!Number.isInteger(start) || !Number.isInteger(end) || end <= start)
    throw new RatingError('BAD_PERIOD', 'a period needs whole hours and an end after its start');
  const resolve = versionResolver(input.assignments);
  const byHour = new Map<number, UsageRow[]>();
  const first = monthOf(start).start;
  for (const row of input.usage) {
    if (row.hour < first || row.hour >= end) continue;
    const list = byHour.get(row.hour);
    if (list) list.push(row);
    else byHour.set(row.hour, [row]);
  }

  let currency: string | undefined;
  let exp = 0n;
  let expDigits = 0;
  const accs = new Map<string, Acc>();
  const acc = (key: string, make: () => Acc) => {
    let a = accs.get(key);
    if (!a) accs.set(key, (a = make()));
    return a;
  };

  for (let m = monthOf(start); m.start < end; m = monthOf(m.end)) {
    const lo = Math.max(start, m.start);
    const hi = Math.min(end, m.end);
    const hoursInMonth = BigInt(m.end - m.start);
    for (const a of accs.values()) a.monthBefore = a.monthUpto = 0n;
    const usedThisMonth = new Map<string, bigint>();
    for (let h = m.start; h < hi; h++) {
      const v = resolve(h);
      if (!v) {
        if (h >= lo)
          throw new RatingError(
            'NO_PLAN',
            `no plan is assigned at ${new Date(h * 3_600_000).toISOString()}; assign a plan covering the whole period`,
          );
        continue;
      }
      if (currency === undefined) {
        currency = v.currency;
        expDigits = currencyExponent(currency);
        exp = 10n ** BigInt(expDigits);
      } else if (currency !== v.currency)
        throw new RatingError(
          'MIXED_CURRENCY',
          `plans in ${currency} and ${v.currency} both apply in this period; invoice each part separately`,
        );
      const before = h < lo;
      for (const f of v.fees) {
        const a = acc(`fee\0\0${f.name}\0${v.plan}\0${v.effectiveFrom}\0${m.start}`, () => ({
          ...base('fee', null, f.name, v, 'month', f.monthlyAmount),
          num: 0n,
          den: 1n,
          displayDen: 1n,
        }));
        a.num = f.amount * exp;
        a.den = hoursInMonth * PRICE_ONE;
        a.monthUpto += 1n;
        if (before) a.monthBefore += 1n;
      }
      for (const row of byHour.get(h) ?? []) addUsage(row, v, before, usedThisMonth);
    }
    for (const a of accs.values()) {
      if (a.monthUpto === 0n) continue;
      // Fees count months: hours charged / hours of the month, in millionths (rounded half-even).
      a.quantity +=
        a.line.kind === 'fee'
          ? roundHalfEven((a.monthUpto - a.monthBefore) * QUANTITY_ONE, hoursInMonth)
          : a.monthUpto - a.monthBefore;
      a.amount +=
        a.sign * (roundHalfEven(a.monthUpto * a.num, a.den) - roundHalfEven(a.monthBefore * a.num, a.den));
    }
  }

  function base(
    kind: LineKind,
    project: string | null,
    item: string,
    v: CompiledVersion,
    unit: string,
    unitPrice: string,
  ) {
    return {
      line: { kind, project, item, plan: v.plan, planVersion: v.effectiveFrom, unit, unitPrice },
      sign: kind === 'allowance' ? -1n : 1n,
      monthBefore: 0n,
      monthUpto: 0n,
      quantity: 0n,
      amount: 0n,
    };
  }

  function addUsage(row: UsageRow, v: CompiledVersion, before: boolean, used: Map<string, bigint>) {
    const mt = meter(row.meter);
    const price = v.prices.get(row.meter);
    const rate = price?.rate ?? 0n;
    const priced = (kind: LineKind, project: string | null) => ({
      ...base(kind, project, row.meter, v, mt.priceUnit, formatDecimal(rate, 12)),
      num: rate * exp,
      den: QUANTITY_ONE * mt.basePerPriceUnit * PRICE_ONE,
      displayDen: mt.basePerPriceUnit,
    });
    const u = acc(`usage\0${row.project}\0${row.meter}\0${v.plan}\0${v.effectiveFrom}`, () =>
      priced('usage', row.project),
    );
    u.monthUpto += row.quantity;
    if (before) u.monthBefore += row.quantity;
    // The allowance is the plan's, per meter and month: only usage the plan in force prices uses it
    // (a meter an earlier plan of the month did not price, or priced, leaves it whole), and coming
    // back to a plan later in the month resumes its count. Not prorated: prorating would depend on
    // assignments after the hour, so a finalized part of a month could change.
    if (!price) return;
    const included = price.included;
    const pool = `${v.plan}\0${row.meter}`;
    const usedSoFar = used.get(pool) ?? 0n;
    used.set(pool, usedSoFar + row.quantity);
    const free = minBig(row.quantity, included - usedSoFar);
    if (free <= 0n) return;
    const a = acc(`allowance\0\0${row.meter}\0${v.plan}\0${v.effectiveFrom}`, () =>
      priced('allowance', null),
    );
    a.monthUpto += free;
    if (before) a.monthBefore += free;
  }

  const lines: RatedLine[] = [];
  for (const a of accs.values()) {
    if (a.quantity === 0n && a.amount === 0n) continue;
    lines.push({
      ...a.line,
      quantity: formatDecimal(
        roundHalfEven(a.sign * a.quantity * 10n ** BigInt(QUANTITY_SCALE), QUANTITY_ONE * a.displayDen),
        QUANTITY_SCALE,
      ),
      amount: a.amount,
    });
  }
  // One line per fee, plan version and month was kept apart above only for the month's denominator.
  // Then every line is made to multiply out; the month-cumulative rounding goes to a rounding line.
  const merged = multiplyOut(mergeFeeMonths(lines), expDigits, start);
  merged.sort(
    (x, y) =>
      kindOrder[x.kind] - kindOrder[y.kind] ||
      (x.project ?? '').localeCompare(y.project ?? '') ||
      x.item.localeCompare(y.item) ||
      x.planVersion - y.planVersion,
  );
  for (const l of merged)
    checkAmount(l.amount, `line ${l.kind} ${l.project ?? ''} ${l.item}`.replace('  ', ' '));
  return {
    currency: currency ?? input.assignments[0]?.plan.currency ?? 'XXX',
    lines: merged,
    total: checkAmount(
      merged.reduce((s, l) => s + l.amount, 0n),
      'the total',
    ),
  };
}

function mergeFeeMonths(lines: RatedLine[]): RatedLine[] {
  const out = new Map<string, RatedLine>();
  for (const l of lines) {
    const key = `${l.kind}\0${l.project}\0${l.item}\0${l.plan}\0${l.planVersion}`;
    const prev = out.get(key);
    if (!prev) out.set(key, { ...l });
    else {
      prev.amount += l.amount;
      prev.quantity = formatDecimal(
        parseDecimal(prev.quantity, QUANTITY_SCALE) + parseDecimal(l.quantity, QUANTITY_SCALE),
        QUANTITY_SCALE,
      ); // fees: months, never negative
    }
  }
  return [...out.values()];
}

const minBig = (a: bigint, b: bigint) => (a < b ? a : b);
