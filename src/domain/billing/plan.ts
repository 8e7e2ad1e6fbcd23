import { currencyExponent, DecimalError, parseDecimal } from './decimal.ts';
import { meter, QUANTITY_SCALE } from './meters.ts';

/**
 * A plan: a currency and a history of price versions. A version takes effect at its hour and stays
 * in force until the next one, so adding a version changes prices from then on and never rewrites
 * a period before it. Tenants get plans through assignments, which also have effective hours.
 */
export interface MeterPrice {
  meter: string;
  /** Price of one price unit of the meter (core-hour, GiB-hour …), in major currency units. */
  unitPrice: string;
  /** Price units included free each calendar month (tenant-wide), before this price applies. */
  included?: string;
}

export interface Fee {
  name: string;
  /** A fixed amount per calendar month in major units, charged pro rata by the hour. */
  monthlyAmount: string;
}

export interface PlanVersion {
  effectiveFrom: number;
  prices: MeterPrice[];
  fees: Fee[];
}

export interface Plan {
  name: string;
  currency: string;
  versions: PlanVersion[];
}

export interface Assignment {
  plan: Plan;
  from: number;
  /** Exclusive; open-ended when absent. */
  to?: number;
}

/** Prices carry up to 12 decimal places of the major unit (0.000000000001 EUR per core-second is expressible). */
export const PRICE_SCALE = 12;
export const PRICE_ONE = 10n ** BigInt(PRICE_SCALE);

export interface CompiledPrice {
  unitPrice: string;
  /** unitPrice × 10^12 (major units). */
  rate: bigint;
  /** Included allowance in micro base units. */
  included: bigint;
}

export interface CompiledVersion {
  plan: string;
  currency: string;
  effectiveFrom: number;
  prices: Map<string, CompiledPrice>;
  fees: Array<{ name: string; monthlyAmount: string; amount: bigint }>;
}

/** Parses and checks one version; every error names the field to fix. */
export function compileVersion(planName: string, currency: string, v: PlanVersion): CompiledVersion {
  currencyExponent(currency);
  const prices = new Map<string, CompiledPrice>();
  for (const p of v.prices) {
    if (prices.has(p.meter)) throw new DecimalError(`meter "${p.meter}" is priced twice in one version`);
    const m = meter(p.meter);
    prices.set(p.meter, {
      unitPrice: p.unitPrice,
      rate: parseDecimal(p.unitPrice, PRICE_SCALE, `unitPrice of meter "${p.meter}"`),
      included:
        parseDecimal(p.included ?? '0', QUANTITY_SCALE, `included of meter "${p.meter}"`) *
        m.basePerPriceUnit,
    });
  }
  const names = new Set<string>();
  const fees = v.fees.map((f) => {
    if (names.has(f.name)) throw new DecimalError(`fee "${f.name}" appears twice in one version`);
    names.add(f.name);
    return {
      name: f.name,
      monthlyAmount: f.monthlyAmount,
      amount: parseDecimal(f.monthlyAmount, PRICE_SCALE, `monthlyAmount of fee "${f.name}"`),
    };
  });
  return { plan: planName, currency, effectiveFrom: v.effectiveFrom, prices, fees };
}

/**
 * Which compiled plan version applies at each hour: the assignment covering the hour, then the
 * newest version of its plan that took effect at or before it. Undefined when nothing covers it.
 */
export function versionResolver(
  assignments: readonly Assignment[],
): (hour: number) => CompiledVersion | undefined {
  const compiled = new Map<Plan, CompiledVersion[]>();
  const sorted = [...assignments].sort((a, b) => a.from - b.from);
  for (const a of sorted) {
    if (!compiled.has(a.plan))
      compiled.set(
        a.plan,
        [...a.plan.versions]
          .sort((x, y) => x.effectiveFrom - y.effectiveFrom)
          .map((v) => compileVersion(a.plan.name, a.plan.currency, v)),
      );
  }
  return (hour) => {
    let current: Assignment | undefined;
    for (const a of sorted) if (a.from <= hour && (a.to === undefined || hour < a.to)) current = a;
    if (!current) return undefined;
    let found: CompiledVersion | undefined;
    for (const v of compiled.get(current.plan)!) if (v.effectiveFrom <= hour) found = v;
    return found;
  };
}
