import { describe, expect, it } from 'vitest';
import { formatQuantity, parseQuantity, QuantityError } from './quantity.ts';

describe('parseQuantity', () => {
  it.each([
    ['1', 1000n],
    ['250m', 250n],
    ['0.5', 500n],
    ['1.5', 1500n],
    ['2k', 2_000_000n],
    ['1Ki', 1_024_000n],
    ['1.5Gi', 1_610_612_736_000n],
    ['128Mi', 134_217_728_000n],
    ['1e3', 1_000_000n],
    ['100n', 1n],
    ['1u', 1n],
    ['.5', 500n],
    [3, 3000n],
  ])('%s is %s milli-units', (text, milli) => {
    expect(parseQuantity(text)).toBe(milli);
  });

  it.each(['', 'lots', '1.5.5', '1Gb', '--1', 'Gi'])('refuses %j', (text) => {
    expect(() => parseQuantity(text)).toThrow(QuantityError);
  });

  it('refuses exponents beyond ±64 at once instead of computing them for minutes', () => {
    expect(parseQuantity('1e64')).toBe(10n ** 67n);
    expect(() => parseQuantity('1e999999999')).toThrow(QuantityError);
    expect(() => parseQuantity('1e-65')).toThrow(QuantityError);
  });
});

describe('formatQuantity', () => {
  it.each([
    [1000n, '1'],
    [1500n, '1500m'],
    [0n, '0'],
    [1_073_741_824_000n, '1Gi'],
    [1_610_612_736_000n, '1536Mi'],
    [2_000_000n, '2000'],
  ])('%s milli-units is %s', (milli, text) => {
    expect(formatQuantity(milli)).toBe(text);
  });

  it('round-trips what it formats', () => {
    for (const text of ['3', '750m', '64Gi', '1536Mi', '0']) {
      expect(formatQuantity(parseQuantity(text))).toBe(text);
    }
  });
});
