import type { KubeObject } from '../../schemas/kube-object.ts';

/** The read side of an informer cache: what a reconciler needs, and nothing it could write with. */
export interface Store<T extends KubeObject = KubeObject> {
  get(key: string): T | undefined;
  list(): T[];
  byIndex(index: string, value: string): T[];
}

/** Index names every cache of kubeOP-managed objects registers. */
export const INDEX_NAMESPACE = 'namespace';
export const INDEX_TENANT = 'tenant';
export const INDEX_PROJECT = 'project';
