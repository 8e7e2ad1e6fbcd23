import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../schemas/kube-object.ts';
import {
  appHosts,
  httpRouteHosts,
  ingressHosts,
  namespaceTenancy,
  storeTenancyView,
  type ReadStore,
} from './tenancy.ts';

function store(objects: KubeObject[], hosts?: (o: unknown) => string[]): ReadStore {
  const key = (o: KubeObject) =>
    o.metadata.namespace ? `${o.metadata.namespace}/${o.metadata.name}` : o.metadata.name;
  return {
    get: (k) => objects.find((o) => key(o) === k),
    byIndex: (_i, value) => objects.filter((o) => hosts?.(o).includes(value)),
  };
}
const nsObj = (name: string, labels: Record<string, string>): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Namespace',
  metadata: { name, labels },
});
const tenantLabels = (t: string) => ({
  'app.kubernetes.io/managed-by': 'kubeop',
  'paas.kubeop.io/tenant': t,
  'paas.kubeop.io/project': 'p',
});

describe('the tenancy view', () => {
  it('reads hostnames from Ingresses, HTTPRoutes and Apps, lower-cased', () => {
    expect(
      ingressHosts({
        spec: { rules: [{ host: 'A.example' }, {}], tls: [{ hosts: ['a.example', 'b.example'] }] },
      }),
    ).toEqual(['a.example', 'b.example']);
    expect(httpRouteHosts({ spec: { hostnames: ['x.example', 3] } })).toEqual(['x.example']);
    expect(appHosts({ spec: { expose: { hosts: ['w.example'] } } })).toEqual(['w.example']);
    expect(ingressHosts(null)).toEqual([]);
  });

  it("knows a namespace as a tenant namespace only with all of kubeOP's labels", () => {
    expect(namespaceTenancy(nsObj('n', tenantLabels('acme')))).toEqual({
      namespace: 'n',
      tenant: 'acme',
      project: 'p',
    });
    expect(
      namespaceTenancy(nsObj('n', { 'paas.kubeop.io/tenant': 'acme', 'paas.kubeop.io/project': 'p' })),
    ).toBeUndefined();
  });

  it('names the tenant of each object claiming a hostname', () => {
    const ingress = (ns: string, host: string): KubeObject => ({
      apiVersion: 'networking.k8s.io/v1',
      kind: 'Ingress',
      metadata: { name: 'i', namespace: ns },
      spec: { rules: [{ host }] },
    });
    const view = storeTenancyView({
      namespaces: store([nsObj('a-ns', tenantLabels('acme'))]),
      tenants: store([]),
      projects: store([]),
      hosts: [
        {
          kind: 'Ingress',
          store: store([ingress('a-ns', 'x.example'), ingress('plain', 'x.example')], ingressHosts),
        },
      ],
    });
    expect(view.hostClaims('X.example')).toEqual([
      { kind: 'Ingress', namespace: 'a-ns', name: 'i', tenant: 'acme' },
      { kind: 'Ingress', namespace: 'plain', name: 'i', tenant: undefined },
    ]);
  });
});
