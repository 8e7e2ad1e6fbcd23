/**
 * Exact decimals as scaled bigints. Money and quantities never pass through a float: a decimal
 * string is parsed into an integer count of 10^-scale units, and the one rounding step (half-even,
 * "banker's rounding") works on an exact fraction.
 */
export class DecimalError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DecimalError';
  }
}

const DECIMAL = /^(\d+)(?:\.(\d+))?$/;

/**
 * `"1.25"` at scale 6 → `1250000n`. Non-negative only; more fractional digits than `scale` is an
 * error (never a silent rounding of an input).
 */
export function parseDecimal(text: string, scale: number, what = 'value'): bigint {
  const m = DECIMAL.exec(text);
  if (!m) throw new DecimalError(`${what} "${text}" is not a non-negative decimal number such as 12 or 0.25`);
  const frac = (m[2] ?? '').replace(/0+$/, '');
  if (frac.length > scale)
    throw new DecimalError(`${what} "${text}" has more than ${scale} digits after the decimal point`);
  return BigInt(m[1]! + frac.padEnd(scale, '0'));
}

/** `1250000n` at scale 6 → `"1.25"`; negative values keep their sign; no trailing zeros. */
export function formatDecimal(value: bigint, scale: number, minFraction = 0): string {
  const neg = value < 0n;
  const digits = (neg ? -value : value).toString().padStart(scale + 1, '0');
  const int = digits.slice(0, digits.length - scale);
  let frac = digits.slice(digits.length - scale).replace(/0+$/, '');
  if (frac.length < minFraction) frac = frac.padEnd(minFraction, '0');
  return `${neg ? '-' : ''}${int}${frac ? `.${frac}` : ''}`;
}

/**
 * n / d rounded to the nearest integer, ties to the even neighbour. `d` must be positive. Half-even
 * has no bias over many lines (half-up would always round .5 the same way).
 */
export function roundHalfEven(n: bigint, d: bigint): bigint {
  if (d <= 0n) throw new RangeError('denominator must be positive');
  let q = n / d; // truncates toward zero
  let r = n % d;
  if (r < 0n) {
    q -= 1n;
    r += d;
  } // now n = q·d + r with 0 ≤ r < d
  const twice = 2n * r;
  if (twice > d || (twice === d && q % 2n !== 0n)) q += 1n;
  return q;
}

/** Minor-unit exponent of an ISO 4217 currency (USD 2, JPY 0, BHD 3), from the runtime's ICU data. */
export function currencyExponent(currency: string): number {
  if (!/^[A-Z]{3}$/.test(currency) || !Intl.supportedValuesOf('currency').includes(currency))
    throw new DecimalError(`currency "${currency}" is not an ISO 4217 code such as EUR or USD`);
  return new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions()
    .maximumFractionDigits!;
}

/** An amount of money: integer minor units and the currency they are in. */
export interface Money {
  minor: bigint;
  currency: string;
}

/** `{minor: 4320n, currency: 'EUR'}` → `"43.20"`. */
export function formatMoney(m: Money): string {
  const exp = currencyExponent(m.currency);
  return formatDecimal(m.minor, exp, exp);
}
