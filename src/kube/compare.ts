import { createHash } from 'node:crypto';
import { parseQuantity } from '../domain/quantity.ts';

/** Maps whose values are quantities: the API server stores them in canonical form (`2000m` → `2`). */
const quantityMaps = new Set([
  'hard',
  'default',
  'defaultRequest',
  'max',
  'min',
  'requests',
  'limits',
  'capacity',
]);

function sameQuantity(a: string, b: string): boolean {
  try {
    return parseQuantity(a) === parseQuantity(b);
  } catch {
    return false;
  }
}

/**
 * True when every field of `desired` is present in `live` with the same value — what a server-side
 * apply of `desired` would change nothing in. Fields the API server defaults (present only in
 * `live`) are ignored; lists must match element by element and in length (kubeOP's lists are atomic
 * or fully owned, so an extra element is drift). Quantities compare by value.
 */
export function isSubset(desired: unknown, live: unknown, parentKey = ''): boolean {
  if (desired === live) return true;
  if (typeof desired === 'string' && typeof live === 'string') {
    return quantityMaps.has(parentKey) && sameQuantity(desired, live);
  }
  if (typeof desired === 'number' && typeof live === 'string')
    return quantityMaps.has(parentKey) && sameQuantity(String(desired), live);
  if (Array.isArray(desired)) {
    return (
      Array.isArray(live) &&
      live.length === desired.length &&
      desired.every((d, i) => isSubset(d, live[i], parentKey))
    );
  }
  if (desired && typeof desired === 'object') {
    if (!live || typeof live !== 'object' || Array.isArray(live)) return false;
    const l = live as Record<string, unknown>;
    return Object.entries(desired as Record<string, unknown>).every(([k, v]) =>
      v === undefined ? true : isSubset(v, l[k], quantityMaps.has(parentKey) ? parentKey : k),
    );
  }
  return false;
}

/**
 * Drops empty maps and lists, recursively. Server-side apply turns an empty map of a custom resource
 * into null, which the schema then refuses; leaving the field out is what "empty" means in an apply
 * (the manager stops owning it and it disappears).
 */
export function withoutEmptyCollections<T>(value: T): T {
  if (Array.isArray(value)) return value.map((v) => withoutEmptyCollections(v)) as T;
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      const cleaned = withoutEmptyCollections(v);
      const empty =
        (Array.isArray(cleaned) && cleaned.length === 0) ||
        (cleaned !== null &&
          typeof cleaned === 'object' &&
          !Array.isArray(cleaned) &&
          Object.keys(cleaned).length === 0);
      if (!empty && cleaned !== undefined) out[k] = cleaned;
    }
    return out as T;
  }
  return value;
}

export const ANNOTATION_APPLIED_HASH = 'paas.kubeop.io/applied-hash';

function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.keys(value as Record<string, unknown>)
        .sort()
        .map((k) => [k, canonical((value as Record<string, unknown>)[k])]),
    );
  }
  return value;
}

/** JSON of `value` with object keys sorted: the same text whatever the key order. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(canonical(value));
}

/** `obj` with an annotation holding the hash of its rendering (key order does not matter). */
export function withAppliedHash<T extends { metadata: { annotations?: Record<string, string> } }>(obj: T): T {
  const hash = createHash('sha256').update(canonicalJson(obj)).digest('hex').slice(0, 16);
  return {
    ...obj,
    metadata: {
      ...obj.metadata,
      annotations: { ...obj.metadata.annotations, [ANNOTATION_APPLIED_HASH]: hash },
    },
  };
}
