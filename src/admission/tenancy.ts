import { LABEL_MANAGED_BY, LABEL_PROJECT, LABEL_TENANT, MANAGED_BY } from '../domain/naming.ts';
import type { Project, Tenant } from '../schemas/crds/types.ts';
import type { Store } from '../kube/store.ts';
import { labelsOf, record, records, str, strings } from './review.ts';

/** The tenant and project a kubeOP namespace belongs to, from the labels the operator gives it. */
export interface NamespaceTenancy {
  namespace: string;
  tenant: string;
  project: string;
}

/** An object elsewhere in the cluster that already uses a hostname. */
export interface HostClaim {
  kind: string;
  namespace: string;
  name: string;
  /** The tenant of its namespace; undefined when that is not a kubeOP tenant namespace. */
  tenant: string | undefined;
}

/**
 * What rules may know about the cluster: a read-only, synchronous view of kubeOP's caches. Rules
 * stay pure functions of (request, view); the view is a snapshot that may lag the API server by the
 * watch delay, which the rules that depend on it document.
 */
export interface TenancyView {
  namespace(name: string): NamespaceTenancy | undefined;
  tenant(name: string): Tenant | undefined;
  project(name: string): Project | undefined;
  /** Every Ingress, HTTPRoute and App that names `host` (exact, lower-case). */
  hostClaims(host: string): HostClaim[];
}

/** The narrow part of an informer cache the view reads. */
export type ReadStore = Pick<Store, 'get' | 'byIndex'>;

export const HOST_INDEX = 'kubeop-hostnames';

const lower = (hosts: string[]) => [...new Set(hosts.map((h) => h.toLowerCase()))];

/** Hostnames an Ingress routes: its rules' hosts and its TLS hosts. */
export function ingressHosts(obj: unknown): string[] {
  const spec = record(record(obj).spec);
  return lower([
    ...records(spec.rules).flatMap((r) => (str(r.host) ? [r.host as string] : [])),
    ...records(spec.tls).flatMap((t) => strings(t.hosts)),
  ]);
}

export function httpRouteHosts(obj: unknown): string[] {
  return lower(strings(record(record(obj).spec).hostnames));
}

export function appHosts(obj: unknown): string[] {
  return lower(strings(record(record(record(obj).spec).expose).hosts));
}

/** The tenancy a Namespace object declares, when it is a kubeOP tenant namespace. */
export function namespaceTenancy(ns: unknown): NamespaceTenancy | undefined {
  const labels = labelsOf(ns);
  const name = str(record(record(ns).metadata).name);
  const tenant = labels[LABEL_TENANT];
  const project = labels[LABEL_PROJECT];
  if (!name || !tenant || !project || labels[LABEL_MANAGED_BY] !== MANAGED_BY) return undefined;
  return { namespace: name, tenant, project };
}

export interface TenancyStores {
  namespaces: ReadStore;
  tenants: ReadStore;
  projects: ReadStore;
  /** Stores indexed by HOST_INDEX, by the kind they hold. */
  hosts: Array<{ kind: string; store: ReadStore }>;
}

export function storeTenancyView(stores: TenancyStores): TenancyView {
  const view: TenancyView = {
    namespace: (name) => namespaceTenancy(stores.namespaces.get(name)),
    tenant: (name) => stores.tenants.get(name) as Tenant | undefined,
    project: (name) => stores.projects.get(name) as Project | undefined,
    hostClaims: (host) =>
      stores.hosts.flatMap(({ kind, store }) =>
        store.byIndex(HOST_INDEX, host.toLowerCase()).map((o) => ({
          kind,
          namespace: o.metadata.namespace ?? '',
          name: o.metadata.name,
          tenant: view.namespace(o.metadata.namespace ?? '')?.tenant,
        })),
      ),
  };
  return view;
}
