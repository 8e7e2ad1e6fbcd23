import { LABEL_MANAGED_BY, MANAGED_BY } from '../../domain/naming.ts';
import type { InformerRef } from '../../kube/informer.ts';
import type { Project } from '../../schemas/crds/types.ts';
import type { KubeObject } from '../../schemas/kube-object.ts';

export type { Store } from '../../kube/store.ts';

// The caches the controllers share, named once so that every declaration asking for one gets the
// same informer from the process's cache and registers the same index function (a no-op the second
// time; see Informer.addIndex).

const API = 'paas.kubeop.io/v1alpha1';
/** Objects kubeOP created: its namespaces and what it puts in them. */
export const MANAGED = `${LABEL_MANAGED_BY}=${MANAGED_BY}`;

export const TENANTS: InformerRef = { apiVersion: API, kind: 'Tenant' };
export const PROJECTS: InformerRef = { apiVersion: API, kind: 'Project' };
export const APPS: InformerRef = { apiVersion: API, kind: 'App' };
export const MANAGED_NAMESPACES: InformerRef = {
  apiVersion: 'v1',
  kind: 'Namespace',
  labelSelector: MANAGED,
};
export const MANAGED_QUOTAS: InformerRef = {
  apiVersion: 'v1',
  kind: 'ResourceQuota',
  labelSelector: MANAGED,
};

/** Index names every cache of kubeOP-managed objects registers. */
export const INDEX_NAMESPACE = 'namespace';
export const INDEX_TENANT = 'tenant';

/** INDEX_NAMESPACE: an object by its namespace. */
export const byNamespace = (o: KubeObject): string[] => [o.metadata.namespace ?? ''];
/** INDEX_TENANT on Projects: a Project by the tenant it names. */
export const byTenant = (p: Project): string[] => [p.spec.tenantRef.name];

export const labelOf = (o: KubeObject, key: string): string | undefined => o.metadata.labels?.[key];
