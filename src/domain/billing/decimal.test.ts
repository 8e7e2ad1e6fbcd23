import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { currencyExponent, formatDecimal, formatMoney, parseDecimal, roundHalfEven } from './decimal.ts';

describe('decimals', () => {
  it('parses decimal strings exactly into scaled integers', () => {
    expect(parseDecimal('1.25', 6)).toBe(1_250_000n);
    expect(parseDecimal('0.000001', 6)).toBe(1n);
    expect(parseDecimal('7', 2)).toBe(700n);
    expect(parseDecimal('1.50000000', 2)).toBe(150n);
  });

  it('refuses what is not a plain non-negative decimal, or needs rounding, naming the field', () => {
    expect(() => parseDecimal('1e3', 6, 'unitPrice')).toThrow(/unitPrice "1e3"/);
    expect(() => parseDecimal('-1', 6)).toThrow(/non-negative/);
    expect(() => parseDecimal('0.0000001', 6, 'quantity')).toThrow(/more than 6 digits/);
    expect(() => parseDecimal('', 6)).toThrow();
  });

  it('formats back what it parsed', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 10n ** 30n }), fc.integer({ min: 0, max: 12 }), (v, scale) => {
        expect(parseDecimal(formatDecimal(v, scale), scale)).toBe(v);
      }),
    );
    expect(formatDecimal(-150n, 2)).toBe('-1.5');
    expect(formatDecimal(150n, 2, 2)).toBe('1.50');
  });

  it('rounds half to even, and otherwise to the nearest integer', () => {
    expect([5n, 15n, 25n, -5n, -15n, 14n, 16n].map((n) => roundHalfEven(n, 10n))).toEqual([
      0n,
      2n,
      2n,
      0n,
      -2n,
      1n,
      2n,
    ]);
    fc.assert(
      fc.property(
        fc.bigInt({ min: -(10n ** 20n), max: 10n ** 20n }),
        fc.bigInt({ min: 1n, max: 10n ** 9n }),
        (n, d) => {
          const r = roundHalfEven(n, d);
          const err = n - r * d; // |n/d − r| ≤ 1/2
          expect(2n * (err < 0n ? -err : err) <= d).toBe(true);
        },
      ),
    );
  });

  it('knows the minor unit of a currency and refuses made-up ones', () => {
    expect(currencyExponent('EUR')).toBe(2);
    expect(currencyExponent('JPY')).toBe(0);
    expect(() => currencyExponent('XYZ')).toThrow(/ISO 4217/);
    expect(() => currencyExponent('eur')).toThrow(/ISO 4217/);
    expect(formatMoney({ minor: 4320n, currency: 'EUR' })).toBe('43.20');
    expect(formatMoney({ minor: -7n, currency: 'USD' })).toBe('-0.07');
  });
});
