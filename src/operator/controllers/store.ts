export type { Store } from '../../kube/store.ts';

/** Index names every cache of kubeOP-managed objects registers. */
export const INDEX_NAMESPACE = 'namespace';
export const INDEX_TENANT = 'tenant';
export const INDEX_PROJECT = 'project';
