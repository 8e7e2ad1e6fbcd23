import type { KubeObject } from '../../../schemas/kube-object.ts';
import { driftPaths, listShape, projectOnto } from './diff.ts';

/** What an apply of `desired` returned, on the fields `desired` sets; kept to judge later drift. */
export interface AppliedRecord {
  hash: string | undefined;
  projected: unknown;
  /** metadata.generation the API server gave the object at that apply. */
  generation?: number;
  /** metadata.resourceVersion of the live object that apply replaced (absent: it created it). */
  replaced?: string;
}

export function recordOf(
  desired: KubeObject,
  answer: KubeObject,
  hash: string | undefined,
  manager: string,
  replaced?: KubeObject,
): AppliedRecord {
  const generation = answer.metadata?.generation;
  const version = replaced?.metadata.resourceVersion;
  return {
    hash,
    projected: projectOnto(desired, answer, listShape(answer, manager)),
    ...(generation !== undefined ? { generation } : {}),
    ...(version !== undefined ? { replaced: version } : {}),
  };
}

/**
 * True when `live` is the very version kubeOP's last apply of this rendering replaced: the cache
 * has not caught up with that apply yet (its watch event is on the way and brings a reconcile), so
 * applying and counting again would report one hand edit twice.
 */
export function behindLastApply(
  live: KubeObject,
  last: AppliedRecord | undefined,
  hash: string | undefined,
): boolean {
  return (
    last !== undefined &&
    last.hash === hash &&
    last.replaced !== undefined &&
    live.metadata.resourceVersion === last.replaced
  );
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
 * True when applying `desired` would change nothing kubeOP's field manager (`manager`) owns in
 * `live` (see diff.ts): either every field of `desired` is in `live` as written — list items
 * matched by their keys, items and fields other writers added ignored — or `live` still holds what
 * the API server stored for them at kubeOP's last apply of this same rendering.
 */
export function inSync(
  desired: KubeObject,
  live: KubeObject,
  last: AppliedRecord | undefined,
  hash: string | undefined,
  manager: string,
): boolean {
  return driftOf(desired, live, last, hash, manager).length === 0;
}

/** The paths of `desired` where `live` differs (empty when in sync, see inSync). */
export function driftOf(
  desired: KubeObject,
  live: KubeObject,
  last: AppliedRecord | undefined,
  hash: string | undefined,
  manager: string,
): string[] {
  const shape = listShape(live, manager);
  const paths = driftPaths(desired, live, shape);
  if (paths.length === 0 || last === undefined || last.hash !== hash) return paths;
  return driftPaths(last.projected, live, shape);
}
