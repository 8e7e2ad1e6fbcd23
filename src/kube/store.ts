import type { KubeObject } from '../schemas/kube-object.ts';

/**
 * The read side of an informer cache: what a reconciler or an admission rule needs, and nothing it
 * could write or subscribe with. Keys are `namespace/name`, or `name` for cluster-scoped objects
 * (`keyOf`). Consumers depend on the narrowest part they use (`Pick<Store, 'get' | 'byIndex'>`).
 */
export interface Store<T extends KubeObject = KubeObject> {
  get(key: string): T | undefined;
  list(): T[];
  /** Objects whose index `index` yields `value`; throws when no such index is registered. */
  byIndex(index: string, value: string): T[];
}
