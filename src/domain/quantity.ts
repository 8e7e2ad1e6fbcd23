/**
 * Kubernetes resource quantities as exact integers of milli-units (bigint), so sums and
 * comparisons of quota never suffer floating-point error. `1.5Gi` → 1610612736000n, `250m` → 250n.
 * Sub-milli amounts (`n`, `u`) round up: quota arithmetic stays conservative.
 */
const binary: Record<string, bigint> = {
  Ki: 1n << 10n,
  Mi: 1n << 20n,
  Gi: 1n << 30n,
  Ti: 1n << 40n,
  Pi: 1n << 50n,
  Ei: 1n << 60n,
};
const decimalExp: Record<string, number> = {
  n: -9,
  u: -6,
  m: -3,
  '': 0,
  k: 3,
  M: 6,
  G: 9,
  T: 12,
  P: 15,
  E: 18,
};

const pattern = /^([+-]?)(\d+(?:\.\d*)?|\.\d+)(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]|[eE][+-]?\d+)?$/;

/**
 * The largest amount Kubernetes accounts for exactly: resource.Quantity values are read as int64
 * milli-units (MilliValue) by quota and scheduling, and ParseQuantity silently caps above 2^63 − 1 units.
 */
export const MAX_QUANTITY_MILLI = (1n << 63n) - 1n;
export const MAX_QUANTITY = `${MAX_QUANTITY_MILLI}m`;

export class QuantityError extends Error {
  constructor(text: string) {
    super(`"${text}" is not a Kubernetes quantity (for example 500m, 2 or 4Gi)`);
    this.name = 'QuantityError';
  }
}

function ceilDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b === 0n ? q : a > 0n ? q + 1n : q;
}

export function parseQuantity(text: string | number): bigint {
  const s = String(text).trim();
  const m = pattern.exec(s);
  if (!m) throw new QuantityError(s);
  const [, sign = '', number = '', suffix = ''] = m;
  const [int = '', frac = ''] = number.split('.');
  // value = digits × 10^(-frac.length) × multiplier, computed in milli-units with integers only.
  const digits = BigInt((int || '0') + frac);
  let numerator = digits * 1000n;
  let denominator = 10n ** BigInt(frac.length);
  if (suffix in binary) {
    numerator *= binary[suffix]!;
  } else {
    const exp =
      suffix.startsWith('e') || suffix.startsWith('E') ? Number(suffix.slice(1)) : decimalExp[suffix];
    // Bounded: 10n ** 999999999n would take the process minutes (a denial of service through a CR).
    if (exp === undefined || !Number.isInteger(exp) || Math.abs(exp) > 64) throw new QuantityError(s);
    if (exp >= 0) numerator *= 10n ** BigInt(exp);
    else denominator *= 10n ** BigInt(-exp);
  }
  const milli = ceilDiv(numerator, denominator);
  return sign === '-' ? -milli : milli;
}

/** Canonical text: whole units when exact (with the largest exact binary suffix from Ki), else milli. */
export function formatQuantity(milli: bigint): string {
  if (milli % 1000n !== 0n) return `${milli}m`;
  const units = milli / 1000n;
  if (units !== 0n) {
    for (const suffix of ['Ei', 'Pi', 'Ti', 'Gi', 'Mi', 'Ki']) {
      const factor = binary[suffix]!;
      if (units % factor === 0n) return `${units / factor}${suffix}`;
    }
  }
  return `${units}`;
}

/**
 * Why `text` cannot be a quota, limit or request amount, or undefined when it can: what the CRDs'
 * CEL rules refuse (not a quantity, negative, beyond int64 milli-units), for values read elsewhere.
 */
export function resourceAmountProblem(text: string): string | undefined {
  let milli: bigint;
  try {
    if (text !== text.trim()) throw new QuantityError(text);
    milli = parseQuantity(text);
  } catch {
    return 'expected a Kubernetes quantity such as 500m, 2 or 4Gi';
  }
  if (milli < 0n) return 'must not be negative';
  if (milli > MAX_QUANTITY_MILLI) return `must be at most ${MAX_QUANTITY}`;
  return undefined;
}
