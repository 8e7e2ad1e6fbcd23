/**
 * What the platform meters, in which unit events count it and in which unit plans price it.
 *
 * Events carry usage already integrated over their window in the meter's base unit (a pod
 * requesting 0.5 cores for a 60 s window is 30 core-seconds), so summing events is exact and no
 * window length has to be known later. Plans price a larger unit (core-hour); `basePerPriceUnit`
 * converts between them. Any other meter name is a custom meter counted and priced in one unit.
 */
export interface Meter {
  name: string;
  baseUnit: string;
  priceUnit: string;
  basePerPriceUnit: bigint;
}

const GiB = 1n << 30n;
const HOUR = 3600n;
/** A storage month is 730 hours (8760 / 12), as cloud providers and OpenCost count it. */
export const HOURS_PER_STORAGE_MONTH = 730n;

export const BUILTIN_METERS: Record<string, Meter> = {
  cpu: { name: 'cpu', baseUnit: 'core-second', priceUnit: 'core-hour', basePerPriceUnit: HOUR },
  memory: { name: 'memory', baseUnit: 'byte-second', priceUnit: 'GiB-hour', basePerPriceUnit: GiB * HOUR },
  storage: {
    name: 'storage',
    baseUnit: 'byte-second',
    priceUnit: 'GiB-month',
    basePerPriceUnit: GiB * HOUR * HOURS_PER_STORAGE_MONTH,
  },
  loadbalancers: {
    name: 'loadbalancers',
    baseUnit: 'loadbalancer-second',
    priceUnit: 'loadbalancer-hour',
    basePerPriceUnit: HOUR,
  },
  pods: { name: 'pods', baseUnit: 'pod-second', priceUnit: 'pod-hour', basePerPriceUnit: HOUR },
};

export function meter(name: string): Meter {
  return BUILTIN_METERS[name] ?? { name, baseUnit: 'unit', priceUnit: 'unit', basePerPriceUnit: 1n };
}

/** Event quantities are decimals with up to this many fractional digits (micro-units of the base unit). */
export const QUANTITY_SCALE = 6;
export const QUANTITY_ONE = 10n ** BigInt(QUANTITY_SCALE);
