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
