import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { exactHour } from './hours.ts';
import { lineAmount, multiplyOut } from './lines.ts';
import type { Plan } from './plan.ts';
import { ratePeriod, type RatedLine, type UsageRow } from './rating.ts';

const h = (iso: string) => exactHour(iso)!;
const oct = { start: h('2026-10-01T00:00:00Z'), end: h('2026-11-01T00:00:00Z') };

const expectMultipliesOut = (lines: readonly RatedLine[]) => {
  for (const l of lines)
    expect(
      lineAmount(l.quantity, l.unitPrice, 2),
      `${l.kind} ${l.item}: ${l.quantity} × ${l.unitPrice}`,
    ).toBe(l.amount);
};

describe('invoice lines multiply out', () => {
  it('shows a part-month fee as the share of the month × the monthly price', () => {
    // 349 of October's 744 hours of a 49.99 monthly fee: 0.469086 month × 49.99 = 23.45.
    const plan: Plan = {
      name: 'p',
      currency: 'EUR',
      versions: [
        { effectiveFrom: oct.start, prices: [], fees: [{ name: 'support', monthlyAmount: '49.99' }] },
      ],
    };
    const r = ratePeriod({
      start: oct.start,
      end: oct.start + 349,
      assignments: [{ plan, from: oct.start }],
      usage: [],
    });
    expect(r.lines.map((l) => [l.kind, l.quantity, l.unit, l.unitPrice, l.amount])).toEqual([
      ['fee', '0.469086', 'month', '49.99', 2345n],
    ]);
  });

  it('moves the month-cumulative rounding of a part month to a rounding line that multiplies out too', () => {
    const line = (quantity: string, amount: bigint): RatedLine => ({
      kind: 'usage',
      project: 'web',
      item: 'cpu',
      plan: 'p',
      planVersion: 0,
      quantity,
      unit: 'core-hour',
      unitPrice: '0.015',
      amount,
    });
    // 1 core-hour at 0.015 is 1.5 cents: the cumulative rule may have billed 2 for it.
    const out = multiplyOut([line('1', 2n)], 2, 100);
    expect(out.map((l) => [l.kind, l.quantity, l.unitPrice, l.amount])).toEqual([
      ['usage', '1', '0.015', 2n],
      // round(1.5) is 2 (to even): nothing left over here; for 3 core-hours it is 4.5 → 4.
    ]);
    const out3 = multiplyOut([line('3', 5n)], 2, 100);
    expect(out3.map((l) => [l.kind, l.quantity, l.unitPrice, l.amount])).toEqual([
      ['usage', '3', '0.015', 4n],
      ['rounding', '1', '0.01', 1n],
    ]);
  });

  const priceArb = fc
    .tuple(fc.integer({ min: 0, max: 10_000_000 }), fc.integer({ min: 2, max: 8 }))
    .map(([n, s]) => (n / 10 ** s).toFixed(s));
  const setupArb = fc.record({
    cpu: priceArb,
    storage: priceArb,
    included: fc.integer({ min: 0, max: 50 }).map(String),
    fee: priceArb,
    cuts: fc.uniqueArray(fc.integer({ min: 1, max: 24 * 40 - 1 }), { maxLength: 4 }),
    usage: fc.array(
      fc.record({
        hour: fc.integer({ min: 0, max: 24 * 40 - 1 }).map((x) => oct.start + x),
        project: fc.constantFrom('a', 'b'),
        meter: fc.constantFrom('cpu', 'storage', 'custom'),
        quantity: fc.bigInt({ min: 0n, max: 10n ** 12n }),
      }),
      { maxLength: 40 },
    ),
  });

  it('every line of every part of a period: round(quantity × unit price) is its amount, and the parts keep the total', () => {
    fc.assert(
      fc.property(setupArb, (s) => {
        const plan: Plan = {
          name: 'p',
          currency: 'EUR',
          versions: [
            {
              effectiveFrom: oct.start - 24,
              prices: [
                { meter: 'cpu', unitPrice: s.cpu, included: s.included },
                { meter: 'storage', unitPrice: s.storage },
                { meter: 'custom', unitPrice: s.cpu },
              ],
              fees: [{ name: 'base', monthlyAmount: s.fee }],
            },
          ],
        };
        const assignments = [{ plan, from: oct.start - 24 }];
        const usage: UsageRow[] = s.usage;
        const end = oct.start + 24 * 40;
        const whole = ratePeriod({ start: oct.start, end, assignments, usage });
        expectMultipliesOut(whole.lines);
        const bounds = [0, ...[...s.cuts].sort((x, y) => x - y), 24 * 40].map((x) => oct.start + x);
        let total = 0n;
        for (let i = 1; i < bounds.length; i++) {
          const part = ratePeriod({ start: bounds[i - 1]!, end: bounds[i]!, assignments, usage });
          expectMultipliesOut(part.lines);
          total += part.total;
        }
        expect(total).toBe(whole.total);
      }),
    );
  }, 60_000);
});
