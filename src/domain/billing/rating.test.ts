import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { exactHour } from './hours.ts';
import type { Assignment, Plan } from './plan.ts';
import { ratePeriod, type UsageRow } from './rating.ts';

const h = (iso: string) => exactHour(iso)!;
const coreSeconds = (cores: number, hours = 1) => BigInt(cores * 3600 * hours) * 1_000_000n;
const GiBHourMicro = 3600n * (1n << 30n) * 1_000_000n;

const plan = (name: string, cpu: string, extra: Partial<Plan['versions'][0]> = {}): Plan => ({
  name,
  currency: 'EUR',
  versions: [
    {
      effectiveFrom: h('2020-01-01T00:00:00Z'),
      prices: [{ meter: 'cpu', unitPrice: cpu }],
      fees: [],
      ...extra,
    },
  ],
});

describe('rating a period', () => {
  const nov = { start: h('2026-11-01T00:00:00Z'), end: h('2026-12-01T00:00:00Z') };

  it('prices a month of usage as quantity × unit price per project and meter', () => {
    // 2 cores all month (720 h) at 0.03 €/core-hour = 43.20 €; 1 GiB for 720 h at 0.004 = 2.88 €.
    const usage: UsageRow[] = [];
    for (let hr = nov.start; hr < nov.end; hr++) {
      usage.push({ hour: hr, project: 'web', meter: 'cpu', quantity: coreSeconds(2) });
      usage.push({ hour: hr, project: 'web', meter: 'memory', quantity: GiBHourMicro });
    }
    const p = plan('std', '0.03', {
      prices: [
        { meter: 'cpu', unitPrice: '0.03' },
        { meter: 'memory', unitPrice: '0.004' },
      ],
      fees: [{ name: 'platform', monthlyAmount: '10' }],
    });
    const r = ratePeriod({ ...nov, assignments: [{ plan: p, from: nov.start }], usage });
    expect(r.currency).toBe('EUR');
    expect(
      r.lines.map((l) => [l.kind, l.project, l.item, l.quantity, l.unit, l.unitPrice, l.amount]),
    ).toEqual([
      ['fee', null, 'platform', '1', 'month', '10', 1000n],
      ['usage', 'web', 'cpu', '1440', 'core-hour', '0.03', 4320n],
      ['usage', 'web', 'memory', '720', 'GiB-hour', '0.004', 288n],
    ]);
    expect(r.total).toBe(5608n);
  });

  it('gives the included allowance first in the month as a negative line, tenant-wide', () => {
    const usage: UsageRow[] = [
      { hour: nov.start, project: 'a', meter: 'cpu', quantity: coreSeconds(60) },
      { hour: nov.start + 1, project: 'b', meter: 'cpu', quantity: coreSeconds(60) },
    ];
    const p = plan('free100', '0.5', { prices: [{ meter: 'cpu', unitPrice: '0.5', included: '100' }] });
    const r = ratePeriod({ ...nov, assignments: [{ plan: p, from: nov.start }], usage });
    expect(r.lines.map((l) => [l.kind, l.project, l.quantity, l.amount])).toEqual([
      ['usage', 'a', '60', 3000n],
      ['usage', 'b', '60', 3000n],
      ['allowance', null, '-100', -5000n],
    ]);
    expect(r.total).toBe(1000n);
  });

  it('on a plan change mid-month, gives the new plan its full allowance, eaten only by usage it prices', () => {
    const change = h('2026-11-16T00:00:00Z');
    // Plan a does not price cpu; b prices it at 1 with 10 core-hours included each month.
    const a: Plan = { ...plan('a', '0'), versions: [{ effectiveFrom: nov.start, prices: [], fees: [] }] };
    const b = plan('b', '1', { prices: [{ meter: 'cpu', unitPrice: '1', included: '10' }] });
    const assignments: Assignment[] = [
      { plan: a, from: nov.start, to: change },
      { plan: b, from: change },
    ];
    const usage: UsageRow[] = [
      { hour: nov.start, project: 'web', meter: 'cpu', quantity: coreSeconds(20) },
      { hour: change, project: 'web', meter: 'cpu', quantity: coreSeconds(12) },
    ];
    const r = ratePeriod({ ...nov, assignments, usage });
    // Not prorated: half a month of plan b still includes 10; a's 20 core-hours use none of it.
    expect(r.lines.filter((l) => l.plan === 'b').map((l) => [l.kind, l.quantity, l.amount])).toEqual([
      ['usage', '12', 1200n],
      ['allowance', '-10', -1000n],
    ]);
    // Back on a plan used earlier in the month, its allowance resumes where it was: no second one.
    const c = plan('c', '1', { prices: [{ meter: 'cpu', unitPrice: '1', included: '10' }] });
    const back = ratePeriod({
      ...nov,
      assignments: [
        { plan: c, from: nov.start, to: change },
        { plan: a, from: change, to: change + 24 },
        { plan: c, from: change + 24 },
      ],
      usage: [
        { hour: nov.start, project: 'web', meter: 'cpu', quantity: coreSeconds(8) },
        { hour: change + 24, project: 'web', meter: 'cpu', quantity: coreSeconds(8) },
      ],
    });
    expect(back.lines.filter((l) => l.kind === 'allowance').reduce((t, l) => t + l.amount, 0n)).toBe(-1000n);
  });

  it('prices each part of a period by the plan in force, when the plan changes mid-period', () => {
    const change = h('2026-11-16T00:00:00Z');
    const usage: UsageRow[] = [];
    for (let hr = nov.start; hr < nov.end; hr++)
      usage.push({ hour: hr, project: 'web', meter: 'cpu', quantity: coreSeconds(1) });
    const assignments: Assignment[] = [
      { plan: plan('small', '0.10'), from: nov.start, to: change },
      { plan: plan('large', '0.05'), from: change },
    ];
    const r = ratePeriod({ ...nov, assignments, usage });
    expect(r.lines.map((l) => [l.plan, l.quantity, l.unitPrice, l.amount])).toEqual([
      ['small', '360', '0.1', 3600n],
      ['large', '360', '0.05', 1800n],
    ]);
  });

  it('uses a new price version from its effective hour and the old one before it', () => {
    const p: Plan = {
      name: 'std',
      currency: 'EUR',
      versions: [
        { effectiveFrom: h('2020-01-01T00:00:00Z'), prices: [{ meter: 'cpu', unitPrice: '1' }], fees: [] },
        { effectiveFrom: nov.start + 10, prices: [{ meter: 'cpu', unitPrice: '2' }], fees: [] },
      ],
    };
    const usage = Array.from({ length: 20 }, (_, i) => ({
      hour: nov.start + i,
      project: 'web',
      meter: 'cpu',
      quantity: coreSeconds(1),
    }));
    const r = ratePeriod({ ...nov, assignments: [{ plan: p, from: nov.start }], usage });
    expect(r.lines.map((l) => [l.quantity, l.unitPrice, l.amount])).toEqual([
      ['10', '1', 1000n],
      ['10', '2', 2000n],
    ]);
  });

  it('charges meters a plan does not price at zero but still lists their usage', () => {
    const r = ratePeriod({
      ...nov,
      assignments: [{ plan: plan('std', '1'), from: nov.start }],
      usage: [{ hour: nov.start, project: 'web', meter: 'requests', quantity: 5_000_000n }],
    });
    expect(r.lines).toEqual([
      expect.objectContaining({ item: 'requests', quantity: '5', unit: 'unit', amount: 0n }),
    ]);
  });

  it('refuses a period with hours no plan covers, or priced in two currencies', () => {
    const p = plan('std', '1');
    expect(() => ratePeriod({ ...nov, assignments: [{ plan: p, from: nov.start + 1 }], usage: [] })).toThrow(
      /no plan is assigned at 2026-11-01T00:00:00.000Z/,
    );
    expect(() =>
      ratePeriod({
        ...nov,
        assignments: [
          { plan: p, from: nov.start, to: nov.start + 5 },
          { plan: { ...plan('usd', '1'), currency: 'USD' }, from: nov.start + 5 },
        ],
        usage: [],
      }),
    ).toThrow(/EUR and USD/);
    expect(() => ratePeriod({ start: 5, end: 5, assignments: [], usage: [] })).toThrow(/end after its start/);
  });

  it('rounds a line half to even at the minor unit', () => {
    // 1 core-hour at 0.125 € = 12.5 cents → 12; at 0.135 € = 13.5 cents → 14.
    for (const [price, cents] of [
      ['0.125', 12n],
      ['0.135', 14n],
    ] as const) {
      const r = ratePeriod({
        ...nov,
        assignments: [{ plan: plan('p', price), from: nov.start }],
        usage: [{ hour: nov.start, project: 'x', meter: 'cpu', quantity: coreSeconds(1) }],
      });
      expect(r.total).toBe(cents);
    }
  });
});

// Generated inputs; the timeouts allow for a loaded CI machine (each property runs 100 cases).
describe('rating properties', () => {
  // Two months around a month boundary, small random usage, one or two plans with allowances and fees.
  const origin = h('2026-10-20T00:00:00Z');
  const span = 24 * 25; // into late November
  const priceArb = fc
    .tuple(fc.integer({ min: 0, max: 100_000 }), fc.integer({ min: 0, max: 6 }))
    .map(([n, s]) => (n / 10 ** s).toFixed(s));
  const planArb = (name: string) =>
    fc
      .record({
        cpu: priceArb,
        memory: priceArb,
        included: fc.integer({ min: 0, max: 50 }).map(String),
        fee: fc.integer({ min: 0, max: 100_000 }).map((n) => (n / 100).toFixed(2)),
        version2: fc.option(fc.tuple(fc.integer({ min: 1, max: span - 1 }), priceArb)),
      })
      .map((r): Plan => ({
        name,
        currency: 'EUR',
        versions: [
          {
            effectiveFrom: origin - 24 * 60,
            prices: [
              { meter: 'cpu', unitPrice: r.cpu, included: r.included },
              { meter: 'memory', unitPrice: r.memory },
            ],
            fees: [{ name: 'base', monthlyAmount: r.fee }],
          },
          ...(r.version2
            ? [
                {
                  effectiveFrom: origin + r.version2[0],
                  prices: [{ meter: 'cpu', unitPrice: r.version2[1] }],
                  fees: [],
                },
              ]
            : []),
        ],
      }));
  const usageArb = fc.array(
    fc.record({
      hour: fc.integer({ min: 0, max: span - 1 }).map((x) => origin + x),
      project: fc.constantFrom('a', 'b', 'c'),
      meter: fc.constantFrom('cpu', 'memory', 'custom'),
      quantity: fc.bigInt({ min: 0n, max: 10_000n * 1_000_000n }).map((q) => q * 997n),
    }),
    { maxLength: 60 },
  );
  const setupArb = fc.record({
    a: planArb('a'),
    b: planArb('b'),
    change: fc.option(fc.integer({ min: 1, max: span - 1 })),
    usage: usageArb,
    cuts: fc.uniqueArray(fc.integer({ min: 1, max: span - 1 }), { minLength: 1, maxLength: 4 }),
  });
  const assignmentsOf = (s: { a: Plan; b: Plan; change: number | null }): Assignment[] =>
    s.change === null
      ? [{ plan: s.a, from: origin - 24 * 60 }]
      : [
          { plan: s.a, from: origin - 24 * 60, to: origin + s.change },
          { plan: s.b, from: origin + s.change },
        ];

  it('lines always sum to the total', () => {
    fc.assert(
      fc.property(setupArb, (s) => {
        const r = ratePeriod({
          start: origin,
          end: origin + span,
          assignments: assignmentsOf(s),
          usage: s.usage,
        });
        expect(r.lines.reduce((t, l) => t + l.amount, 0n)).toBe(r.total);
      }),
    );
  }, 60_000);

  it('splitting a period at any hours never changes the total, nor the quantity of a line in plain units', () => {
    fc.assert(
      fc.property(setupArb, (s) => {
        const assignments = assignmentsOf(s);
        const whole = ratePeriod({ start: origin, end: origin + span, assignments, usage: s.usage });
        const bounds = [0, ...[...s.cuts].sort((x, y) => x - y), span].map((x) => origin + x);
        const parts = bounds
          .slice(1)
          .map((end, i) => ratePeriod({ start: bounds[i]!, end, assignments, usage: s.usage }));
        expect(parts.reduce((t, p) => t + p.total, 0n)).toBe(whole.total);
        // Line amounts of the parts each multiply out (lines.test.ts), so they may differ from the
        // whole's by the rounding lines; quantities counted in plain units add up exactly.
        const byLine = new Map<string, number>();
        for (const p of parts)
          for (const l of p.lines) {
            if (l.item !== 'custom') continue;
            const k = `${l.kind}/${l.project}/${l.item}/${l.plan}/${l.planVersion}`;
            byLine.set(k, (byLine.get(k) ?? 0) + Math.round(Number(l.quantity) * 1e6));
          }
        for (const l of whole.lines)
          if (l.item === 'custom')
            expect(byLine.get(`${l.kind}/${l.project}/${l.item}/${l.plan}/${l.planVersion}`) ?? 0).toBe(
              Math.round(Number(l.quantity) * 1e6),
            );
      }),
    );
  }, 60_000);

  it('a plan change mid-period prices the usage before it by the old plan and after it by the new one', () => {
    fc.assert(
      fc.property(setupArb, (s) => {
        fc.pre(s.change !== null);
        const change = origin + s.change!;
        const assignments = assignmentsOf(s);
        const whole = ratePeriod({ start: origin, end: origin + span, assignments, usage: s.usage });
        const parts = [
          {
            plan: s.a,
            r: ratePeriod({ start: origin, end: change, assignments, usage: s.usage }),
            from: origin,
            to: change,
          },
          {
            plan: s.b,
            r: ratePeriod({ start: change, end: origin + span, assignments, usage: s.usage }),
            from: change,
            to: origin + span,
          },
        ];
        expect(parts[0]!.r.total + parts[1]!.r.total).toBe(whole.total);
        for (const { plan: p, r, from, to } of parts) {
          for (const l of r.lines) {
            if (l.kind === 'rounding') continue;
            expect(l.plan).toBe(p.name);
            const version = p.versions.find((v) => v.effectiveFrom === l.planVersion)!;
            const price = version.prices.find((x) => x.meter === l.item);
            if (l.kind === 'usage') expect(Number(l.unitPrice)).toBe(Number(price?.unitPrice ?? 0));
          }
          // A meter counted in plain units shows its quantity exactly: the usage inside the part.
          for (const project of ['a', 'b', 'c']) {
            const used = s.usage
              .filter((u) => u.project === project && u.meter === 'custom' && u.hour >= from && u.hour < to)
              .reduce((t, u) => t + u.quantity, 0n);
            const shown = r.lines
              .filter((l) => l.project === project && l.item === 'custom')
              .reduce((t, l) => t + BigInt(Math.round(Number(l.quantity) * 1e6)), 0n);
            expect(shown).toBe(used);
          }
        }
      }),
    );
  }, 60_000);
});
