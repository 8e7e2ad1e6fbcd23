import Type, { type Static, type TUnsafe } from 'typebox';

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
    // A CEL rule rather than `pattern`, so the error says what to write instead of quoting a regex.
    'x-kubernetes-validations': [
      { rule: 'isQuantity(self)', message: 'must be a Kubernetes quantity such as 500m, 2 or 4Gi' },
    ],
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
