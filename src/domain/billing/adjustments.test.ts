import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { adjustmentsFor, dependsOnHour, lineKey, type BilledLine, type Period } from './adjustments.ts';
import { exactHour } from './hours.ts';
import { lineAmount } from './lines.ts';
import type { Assignment, Plan } from './plan.ts';
import { ratePeriod, type RatedLine, type UsageRow } from './rating.ts';

const h = (iso: string) => exactHour(iso)!;
const oct = { start: h('2026-10-01T00:00:00Z'), end: h('2026-11-01T00:00:00Z') };
const decEnd = h('2026-12-01T00:00:00Z');
const coreHours = (n: bigint) => n * 3600n * 1_000_000n;

const planOf = (price: string, included: string, fee: string): Plan => ({
  name: 'p',
  currency: 'EUR',
  versions: [
    {
      effectiveFrom: h('2026-01-01T00:00:00Z'),
      prices: [
        { meter: 'cpu', unitPrice: price, included },
        { meter: 'memory', unitPrice: '0.004' },
      ],
      fees: [{ name: 'base', monthlyAmount: fee }],
    },
  ],
});

interface Invoice extends Period {
  lines: RatedLine[];
  /** Adjustment lines, per the invoice they correct. */
  adjusts: Map<Invoice, RatedLine[]>;
}

/**
 * The manager's procedure without a database: usage arrives in steps, invoices are finalized in
 * steps; usage for an hour marks every finalized invoice whose rating depends on it; an invoice
 * carries adjustments for the marked invoices that ended by its start.
 */
function simulate(input: {
  assignments: Assignment[];
  events: Array<UsageRow & { step: number }>;
  invoices: Array<Period & { step: number }>;
  steps: number;
}) {
  const known: UsageRow[] = [];
  const finalized: Invoice[] = [];
  const pending = new Set<Invoice>();
  const rate = (p: Period) => ratePeriod({ ...p, assignments: input.assignments, usage: known });
  const billedFor = (x: Invoice): BilledLine[] => [
    ...x.lines,
    ...finalized.flatMap((i) => i.adjusts.get(x) ?? []),
  ];
  const finalize = (p: Period) => {
    const inv: Invoice = { ...p, lines: rate(p).lines, adjusts: new Map() };
    for (const x of finalized)
      if (pending.has(x) && x.end <= inv.start) {
        inv.adjusts.set(x, adjustmentsFor(rate(x).lines, billedFor(x), 2, x.start));
        pending.delete(x);
      }
    finalized.push(inv);
    return inv;
  };
  for (let step = 0; step <= input.steps; step++) {
    for (const e of input.events.filter((x) => x.step === step)) {
      known.push(e);
      for (const x of finalized) if (dependsOnHour(x, e.hour)) pending.add(x);
    }
    for (const p of input.invoices.filter((x) => x.step === step)) finalize(p);
  }
  const carrier = finalize({ start: oct.end, end: decEnd });
  return { finalized, carrier, pending };
}

/** Per line key, the amount billed for October over all invoices and adjustments. */
function billedOctober(finalized: Invoice[], carrier: Invoice) {
  const byLine = new Map<string, bigint>();
  const add = (l: RatedLine) =>
    byLine.set(lineKey(l.kind, l), (byLine.get(lineKey(l.kind, l)) ?? 0n) + l.amount);
  for (const i of finalized) {
    if (i !== carrier) i.lines.forEach(add);
    for (const lines of i.adjusts.values()) lines.forEach(add);
  }
  return byLine;
}

describe('late usage in a month split over several finalized invoices', () => {
  it('bills the allowance a late event in the first half used up again in the second half', () => {
    // 1 EUR per core-hour, 10 included, 30 a month. 7 core-hours in the first half, 3 in the second:
    // both halves are covered by the allowance. Then 3 more core-hours arrive for the first half.
    const assignments = [{ plan: planOf('1', '10', '30'), from: oct.start - 24 * 31 }];
    const half = oct.start + 15 * 24;
    const usage = (hour: number, n: bigint, step: number) => ({
      hour,
      project: 'web',
      meter: 'cpu',
      quantity: coreHours(n),
      step,
    });
    const { finalized, carrier } = simulate({
      assignments,
      events: [usage(oct.start + 1, 7n, 0), usage(half + 1, 3n, 0), usage(oct.start + 2, 3n, 2)],
      invoices: [
        { ...oct, start: oct.start, end: half, step: 1 },
        { start: half, end: oct.end, step: 1 },
      ],
      steps: 2,
    });
    const all = [...billedOctober(finalized, carrier).values()].reduce((t, a) => t + a, 0n);
    // 30.00 fee + 13 core-hours − 10 included = 33.00, as one invoice of October says.
    expect(all).toBe(3300n);
    expect(
      ratePeriod({ ...oct, assignments, usage: [usage(oct.start + 1, 10n, 0), usage(half + 1, 3n, 0)] })
        .total,
    ).toBe(3300n);
    // The second half is rated again: its allowance line shrinks by 3 core-hours.
    const second = finalized[1]!;
    expect(carrier.adjusts.get(second)?.map((l) => [l.kind, l.quantity, l.amount])).toEqual([
      ['allowance', '3', 300n],
    ]);
  });

  // Generated months: any number of invoices, finalized in any order, usage arriving before, between
  // and after the finalizations.
  const setupArb = fc.record({
    price: fc.integer({ min: 0, max: 100_000 }).map((n) => (n / 1000).toFixed(3)),
    included: fc.integer({ min: 0, max: 40 }).map(String),
    fee: fc.integer({ min: 0, max: 100_000 }).map((n) => (n / 100).toFixed(2)),
    cuts: fc.uniqueArray(fc.integer({ min: 1, max: 743 }), { maxLength: 5 }),
    finalizeSteps: fc.array(fc.integer({ min: 0, max: 4 }), { minLength: 6, maxLength: 6 }),
    events: fc.array(
      fc.record({
        hour: fc.integer({ min: 0, max: 743 }).map((x) => oct.start + x),
        project: fc.constantFrom('a', 'b'),
        meter: fc.constantFrom('cpu', 'memory'),
        quantity: fc.bigInt({ min: 0n, max: 20n * 3_600_000_000n }).map((q) => q * 7n),
        step: fc.integer({ min: 0, max: 5 }),
      }),
      { maxLength: 40 },
    ),
  });

  it('the invoices of a month, with any late events, always add up to one invoice of the whole month', () => {
    fc.assert(
      fc.property(setupArb, (s) => {
        const assignments = [{ plan: planOf(s.price, s.included, s.fee), from: oct.start - 24 * 31 }];
        const bounds = [0, ...[...s.cuts].sort((x, y) => x - y), 744].map((x) => oct.start + x);
        const invoices = bounds
          .slice(1)
          .map((end, i) => ({ start: bounds[i]!, end, step: s.finalizeSteps[i]! }));
        const { finalized, carrier, pending } = simulate({
          assignments,
          events: s.events,
          invoices,
          steps: 5,
        });
        expect(pending.size).toBe(0);
        // Every line, adjustments included, multiplies out.
        for (const i of finalized)
          for (const l of [...i.lines, ...[...i.adjusts.values()].flat()])
            expect(lineAmount(l.quantity, l.unitPrice, 2)).toBe(l.amount);
        const whole = ratePeriod({ ...oct, assignments, usage: s.events });
        const billed = billedOctober(finalized, carrier);
        expect([...billed.values()].reduce((t, a) => t + a, 0n)).toBe(whole.total);
      }),
    );
  }, 60_000);
});

describe('which invoices late usage changes', () => {
  it('is every invoice of the hour’s month that ends after it', () => {
    const mid = oct.start + 360;
    expect(dependsOnHour({ start: oct.start, end: mid }, oct.start + 5)).toBe(true);
    expect(dependsOnHour({ start: mid, end: oct.end }, oct.start + 5)).toBe(true);
    expect(dependsOnHour({ start: oct.start, end: mid }, mid + 5)).toBe(false);
    expect(dependsOnHour({ start: oct.end, end: decEnd }, oct.start + 5)).toBe(false);
    // A period across the month boundary depends on both months it covers.
    expect(dependsOnHour({ start: mid, end: oct.end + 24 }, oct.end + 1)).toBe(true);
  });
});
