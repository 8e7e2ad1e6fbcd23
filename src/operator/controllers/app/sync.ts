import { isSubset } from '../../../kube/compare.ts';
import type { KubeObject } from '../../../schemas/kube-object.ts';

/**
 * The values of `stored` at exactly the paths `shape` sets (lists element by element). Applied to
 * the answer of a server-side apply it gives what the API server made of each field kubeOP set —
 * `cpu: 0.5` comes back as `500m`, an int-or-string port as a number — so comparing that with the
 * live object tells a hand edit apart from the server's own normalisation.
 */
export function projectOnto(shape: unknown, stored: unknown): unknown {
  if (Array.isArray(shape)) {
    if (!Array.isArray(stored)) return stored;
    return shape.map((s, i) => projectOnto(s, stored[i]));
  }
  if (shape && typeof shape === 'object') {
    if (!stored || typeof stored !== 'object' || Array.isArray(stored)) return stored;
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(shape as Record<string, unknown>)) {
      out[k] = projectOnto((shape as Record<string, unknown>)[k], (stored as Record<string, unknown>)[k]);
    }
    return out;
  }
  return stored;
}

/** What an apply of `desired` returned, on the fields `desired` sets; kept to judge later drift. */
export interface AppliedRecord {
  hash: string | undefined;
  projected: unknown;
  /** metadata.generation the API server gave the object at that apply. */
  generation?: number;
}

export function recordOf(desired: KubeObject, answer: KubeObject, hash: string | undefined): AppliedRecord {
  const generation = answer.metadata?.generation;
  return {
    hash,
    projected: projectOnto(desired, answer),
    ...(generation !== undefined ? { generation } : {}),
  };
}

/**
 * The live object to judge readiness on. Right after an apply the cache may still hold the version
 * before it, whose status says "available" for the old spec; the generation the apply returned tells
 * that the spec moved on, so the object is judged as not yet observed by its controller.
 */
export function freshest(
  live: KubeObject | undefined,
  last: AppliedRecord | undefined,
): KubeObject | undefined {
  if (!live || last?.generation === undefined) return live;
  if ((live.metadata.generation ?? 0) >= last.generation) return live;
  return { ...live, metadata: { ...live.metadata, generation: last.generation } };
}

/**
 * True when applying `desired` would change nothing in `live`: either every field of `desired` is
 * in `live` as written, or `live` still holds what the API server stored for them at kubeOP's last
 * apply of this same rendering.
 */
export function inSync(
  desired: KubeObject,
  live: KubeObject,
  last: AppliedRecord | undefined,
  hash: string | undefined,
): boolean {
  if (isSubset(desired, live)) return true;
  return last !== undefined && last.hash === hash && isSubset(last.projected, live);
}
