import Type, { type Static, type TUnsafe } from 'typebox';
import { MAX_QUANTITY } from '../domain/quantity.ts';

/**
 * Schema building blocks that stay valid Kubernetes structural schemas: every node has a `type`,
 * enums instead of `const` unions, maps as `additionalProperties`, quantities as int-or-string.
 */

/** `x-kubernetes-validations` on a schema node. */
export function withRules<T extends object>(schema: T, rules: CelRule[]): T {
  return Object.assign(schema, { 'x-kubernetes-validations': rules });
}

export function StringEnum<const T extends readonly string[]>(
  values: T,
  opts: { description?: string; default?: T[number] } = {},
): TUnsafe<T[number]> {
  return Type.Unsafe<T[number]>({ type: 'string', enum: [...values], ...opts });
}

export function StringMap(
  opts: { description?: string; maxProperties?: number } = {},
): TUnsafe<Record<string, string>> {
  return Type.Unsafe<Record<string, string>>({
    type: 'object',
    additionalProperties: { type: 'string' },
    ...opts,
  });
}

export function Quantity(description: string): TUnsafe<string> {
  return Type.Unsafe<string>({
    type: 'string',
    maxLength: 64,
    description: `${description} A Kubernetes quantity, for example \`500m\`, \`2\` or \`4Gi\`.`,
    // CEL rules rather than `pattern`, so the error says what to write instead of quoting a regex.
    // Every quantity here is a quota, a limit or a request: Kubernetes refuses negative ones in a
    // ResourceQuota, a LimitRange and a container, and silently caps (or overflows, in milli-units)
    // larger ones than int64 milli-units hold — so both are refused here, before anything is stored.
    'x-kubernetes-validations': [
      { rule: 'isQuantity(self)', message: 'must be a Kubernetes quantity such as 500m, 2 or 4Gi' },
      {
        rule: "!isQuantity(self) || quantity(self).compareTo(quantity('0')) >= 0",
        message: 'must not be negative: quotas, limits and requests are amounts of 0 or more',
      },
      {
        rule: `!isQuantity(self) || quantity(self).compareTo(quantity('${MAX_QUANTITY}')) <= 0`,
        message: `must be at most ${MAX_QUANTITY} (about 9.2e15 units): Kubernetes counts resources in int64 milli-units`,
      },
    ],
  });
}

/**
 * A count in a ResourceQuota (pods, services…): 0 or more, and no larger than a JSON number holds
 * exactly (2^53 − 1), so the value stored is the value given and fits int64 milli-units.
 */
export function Count(description?: string): TUnsafe<number> {
  return Type.Unsafe<number>({
    type: 'integer',
    minimum: 0,
    maximum: Number.MAX_SAFE_INTEGER,
    ...(description ? { description } : {}),
  });
}

/** DNS-1123 label: what namespaces and most names must be. */
export const dns1123LabelPattern = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$';

export function Dns1123Label(description: string, maxLength = 63): TUnsafe<string> {
  return Type.Unsafe<string>({
    type: 'string',
    pattern: dns1123LabelPattern,
    minLength: 1,
    maxLength,
    description,
  });
}

/** metav1.Condition, as every kubeOP status reports it. */
export const Condition = Type.Object({
  type: Type.String({ maxLength: 316, description: 'Condition type, for example `Ready`.' }),
  status: StringEnum(['True', 'False', 'Unknown'] as const),
  observedGeneration: Type.Optional(Type.Integer({ minimum: 0 })),
  lastTransitionTime: Type.String({ format: 'date-time', description: 'When status last changed.' }),
  reason: Type.String({ maxLength: 1024, pattern: '^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$' }),
  message: Type.String({ maxLength: 32768 }),
});

export type Condition = Static<typeof Condition>;

export function Conditions(): TUnsafe<Condition[]> {
  return Type.Unsafe<Condition[]>({
    ...Type.Array(Condition, { description: 'Latest observations; `Ready` summarises them.' }),
    'x-kubernetes-list-type': 'map',
    'x-kubernetes-list-map-keys': ['type'],
  });
}

/** A CEL rule for `x-kubernetes-validations`. */
export interface CelRule {
  rule: string;
  message: string;
  fieldPath?: string;
  reason?: 'FieldValueInvalid' | 'FieldValueForbidden' | 'FieldValueRequired' | 'FieldValueDuplicate';
}
