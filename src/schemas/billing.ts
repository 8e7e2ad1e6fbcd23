import Type, { type Static } from 'typebox';
import { Dns1123Label } from './kube-types.ts';

/**
 * API schemas of usage ingestion, plans, invoices and analytics. Quantities and prices are decimal
 * strings (never JSON numbers, which are floats); money is a decimal string in the currency's major
 * unit next to its currency.
 */
const Name = Dns1123Label('Lower-case letters, digits and dashes.');
const Timestamp = Type.String({ format: 'date-time' });
const Hour = Type.String({
  format: 'date-time',
  description: 'A UTC timestamp on the hour, e.g. 2026-11-01T00:00:00Z.',
});
/**
 * A non-negative decimal string with at most `maxInteger` digits before the point and `maxFraction`
 * after it. The bounds are what storage holds and rating can add up without overflow: quantities and
 * allowances 15 integer digits (columns numeric(38, 6)), prices and fees 12 (numeric(30, 12)).
 */
const Decimal = (description: string, maxInteger: number, maxFraction: number) =>
  Type.String({
    pattern: `^\\d{1,${maxInteger}}(\\.\\d{1,${maxFraction}})?$`,
    description: `${description} At most ${maxInteger} digits before the decimal point and ${maxFraction} after it.`,
  });
export const QUANTITY_INTEGER_DIGITS = 15;
export const PRICE_INTEGER_DIGITS = 12;
/** Built-in meters are defined in src/domain/billing/meters.ts; any other name is a custom meter. */
const Meter = Type.String({
  pattern: '^[a-z][a-z0-9_.-]{0,62}$',
  description:
    'cpu (core-seconds), memory (byte-seconds), storage (byte-seconds), loadbalancers (seconds), pods (pod-seconds), or a custom meter (plain units).',
});

export const UsageEvent = Type.Object({
  key: Type.String({
    minLength: 1,
    maxLength: 256,
    description: 'Idempotency key, unique per (cluster, source): a retried event is not counted again.',
  }),
  cluster: Type.String({ minLength: 1, maxLength: 128 }),
  source: Type.String({
    minLength: 1,
    maxLength: 128,
    description: 'Who measured it, e.g. kubeop-operator.',
  }),
  tenant: Name,
  project: Name,
  app: Type.Optional(Type.String({ maxLength: 253, description: 'Empty or absent: the project itself.' })),
  meter: Meter,
  quantity: Decimal('Usage over the event window in the meter base unit.', QUANTITY_INTEGER_DIGITS, 6),
  time: Type.String({
    format: 'date-time',
    description: 'Start of the measured window; sets the hour it counts in.',
  }),
});
export const UsageBatch = Type.Object({
  events: Type.Array(UsageEvent, { minItems: 1, maxItems: 1000 }),
});
export const IngestResult = Type.Object({
  accepted: Type.Integer({ description: 'Events counted for the first time.' }),
  duplicates: Type.Integer({
    description: 'Events whose key was already counted with the same payload; ignored.',
  }),
  conflicts: Type.Integer({
    description:
      'Events whose key was already counted with a different payload (tenant, project, app, meter, quantity or time): not counted, the first payload stands; the sender has a bug.',
  }),
});

export const VoidUsageEvent = Type.Object({
  cluster: Type.String({ minLength: 1, maxLength: 128 }),
  source: Type.String({ minLength: 1, maxLength: 128 }),
  key: Type.String({ minLength: 1, maxLength: 256 }),
  reason: Type.String({ minLength: 1, maxLength: 500, description: 'Why, for the audit log and the event.' }),
});
export const VoidedUsageEvent = Type.Object({
  cluster: Type.String(),
  source: Type.String(),
  key: Type.String(),
  tenant: Type.String(),
  project: Type.String(),
  app: Type.String(),
  meter: Type.String(),
  quantity: Type.String({ description: 'The quantity taken out of the usage, in the meter base unit.' }),
  time: Timestamp,
  voidedAt: Timestamp,
  reason: Type.String(),
});

export const MeterPrice = Type.Object({
  meter: Meter,
  unitPrice: Decimal(
    'Price of one price unit (core-hour, GiB-hour, GiB-month, loadbalancer-hour, pod-hour, unit).',
    PRICE_INTEGER_DIGITS,
    12,
  ),
  included: Type.Optional(
    Decimal('Price units free each calendar month, tenant-wide.', QUANTITY_INTEGER_DIGITS, 6),
  ),
});
export const PlanFee = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 64 }),
  monthlyAmount: Decimal('Per calendar month, charged pro rata by the hour.', PRICE_INTEGER_DIGITS, 12),
});
export const PlanVersionBody = Type.Object({
  effectiveFrom: Hour,
  prices: Type.Array(MeterPrice, { maxItems: 100 }),
  fees: Type.Optional(Type.Array(PlanFee, { maxItems: 20 })),
});
export const CreatePlan = Type.Object({
  name: Name,
  currency: Type.String({ pattern: '^[A-Z]{3}$', description: 'ISO 4217, e.g. EUR.' }),
  description: Type.Optional(Type.String({ maxLength: 500 })),
  ...PlanVersionBody.properties,
});
export const PlanResource = Type.Object({
  name: Type.String(),
  currency: Type.String(),
  description: Type.String(),
  createdAt: Timestamp,
  versions: Type.Array(
    Type.Object({
      effectiveFrom: Timestamp,
      prices: Type.Array(
        Type.Object({
          meter: Type.String(),
          unit: Type.String(),
          unitPrice: Type.String(),
          included: Type.String(),
        }),
      ),
      fees: Type.Array(PlanFee),
    }),
  ),
});
export const AssignPlan = Type.Object({ plan: Name, effectiveFrom: Hour });
export const PlanAssignments = Type.Object({
  tenant: Type.String(),
  assignments: Type.Array(Type.Object({ plan: Type.String(), effectiveFrom: Timestamp })),
});

export const CreateInvoice = Type.Object({ tenant: Name, periodStart: Hour, periodEnd: Hour });
export const InvoiceLine = Type.Object({
  kind: Type.Union(
    [
      Type.Literal('fee'),
      Type.Literal('usage'),
      Type.Literal('allowance'),
      Type.Literal('rounding'),
      Type.Literal('adjustment'),
    ],
    {
      description:
        'rounding: the difference between the lines each rounded on its own and the month-cumulative rounding rule; a count of minor units × one minor unit.',
    },
  ),
  project: Type.Union([Type.String(), Type.Null()]),
  item: Type.String({ description: 'The meter, or the fee name.' }),
  plan: Type.String(),
  planVersion: Timestamp,
  quantity: Type.String({ description: 'In `unit`; fees in months (hours charged / hours of the month).' }),
  unit: Type.String(),
  unitPrice: Type.String(),
  amount: Type.String({ description: 'Exactly quantity × unitPrice, rounded half-even to the minor unit.' }),
  currency: Type.String(),
  description: Type.String(),
  adjusts: Type.Union([Type.String(), Type.Null()], {
    description: 'For adjustments: the invoice number corrected.',
  }),
});
export const InvoiceResource = Type.Object({
  id: Type.String({ format: 'uuid' }),
  number: Type.Union([Type.String(), Type.Null()]),
  tenant: Type.String(),
  status: Type.Union([Type.Literal('draft'), Type.Literal('finalized')]),
  periodStart: Timestamp,
  periodEnd: Timestamp,
  currency: Type.String(),
  total: Type.String(),
  createdAt: Timestamp,
  finalizedAt: Type.Union([Timestamp, Type.Null()]),
  lines: Type.Array(InvoiceLine),
});
export const InvoiceSummary = Type.Omit(InvoiceResource, ['lines']);
export const InvoiceQuery = Type.Object({
  tenant: Type.Optional(Name),
  status: Type.Optional(Type.Union([Type.Literal('draft'), Type.Literal('finalized')])),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 100 })),
});

export const Granularity = Type.Union([Type.Literal('hour'), Type.Literal('day'), Type.Literal('month')]);
export const GroupBy = Type.Union([Type.Literal('tenant'), Type.Literal('project'), Type.Literal('app')]);
export const AnalyticsQuery = Type.Object({
  from: Hour,
  to: Hour,
  granularity: Type.Optional(Granularity),
  groupBy: Type.Optional(GroupBy),
  tenant: Type.Optional(Name),
  project: Type.Optional(Name),
  meter: Type.Optional(Meter),
});
export const AnalyticsPoint = Type.Object({
  bucket: Timestamp,
  tenant: Type.String(),
  project: Type.Optional(Type.String()),
  app: Type.Optional(Type.String()),
  meter: Type.String(),
  quantity: Type.String({ description: 'In the meter price unit.' }),
  unit: Type.String(),
  cost: Type.String({ description: 'Quantity × unit price in force, before allowances and fees.' }),
  currency: Type.Union([Type.String(), Type.Null()]),
});
export const AnalyticsSeries = Type.Object({ items: Type.Array(AnalyticsPoint) });
export const TopQuery = Type.Object({
  from: Hour,
  to: Hour,
  by: Type.Optional(GroupBy),
  tenant: Type.Optional(Name),
  currency: Type.Optional(
    Type.String({
      pattern: '^[A-Z]{3}$',
      description: 'Rank costs in this currency; needed when the period has costs in several.',
    }),
  ),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 10 })),
});
export const TopEntry = Type.Object({
  tenant: Type.String(),
  project: Type.Optional(Type.String()),
  app: Type.Optional(Type.String()),
  cost: Type.String(),
  currency: Type.String(),
});
export const TopList = Type.Object({ items: Type.Array(TopEntry) });

export type UsageEvent = Static<typeof UsageEvent>;
export type VoidUsageEvent = Static<typeof VoidUsageEvent>;
export type CreatePlan = Static<typeof CreatePlan>;
export type PlanVersionBody = Static<typeof PlanVersionBody>;
export type PlanResource = Static<typeof PlanResource>;
export type InvoiceResource = Static<typeof InvoiceResource>;
export type InvoiceLine = Static<typeof InvoiceLine>;
export type AnalyticsPoint = Static<typeof AnalyticsPoint>;
