import { describe, expect, it } from 'vitest';
import {
  fakeView,
  NS,
  project,
  request,
  ruleContext,
  tenant,
} from '../../../test/support/admission-fixtures.ts';
import { denialMessage } from '../review.ts';
import { validateApp, validateProject } from './references.ts';

const ctx = ruleContext(
  fakeView({
    tenants: [
      tenant('acme', { allowedRegistries: ['ghcr.io/acme'], allowedIngressDomains: ['acme.example'] }, [
        { kind: 'User', name: 'alice' },
        { kind: 'Group', name: 'acme-admins' },
      ]),
      tenant('globex', {}, [{ kind: 'User', name: 'gus' }]),
    ],
    claims: [{ host: 'globex.acme.example', kind: 'Ingress', namespace: 'g', name: 'i', tenant: 'globex' }],
  }),
);
const rules = (d: ReturnType<typeof validateApp>) => (d.allowed ? [] : d.violations.map((v) => v.rule));

describe('Projects name a tenant their author owns', () => {
  const p = (t: string) => request('Project', project('shop', t));

  it('an owner, directly or through a group, creates projects of its tenant', () => {
    expect(validateProject(p('acme'), ctx).allowed).toBe(true);
    expect(
      validateProject({ ...p('acme'), userInfo: { username: 'bob', groups: ['acme-admins'] } }, ctx).allowed,
    ).toBe(true);
  });

  it('nobody creates a project in another tenant, and the answer does not reveal whether it exists', () => {
    const other = validateProject(p('globex'), ctx);
    const missing = validateProject(p('nope'), ctx);
    expect(other.allowed || denialMessage(other.violations)).toBe(
      'kubeOP rule project-tenant: Project shop names tenant "globex", and alice is not an owner of such a tenant. Fix: set spec.tenantRef.name to a tenant you own, or ask an owner of that tenant (or a platform admin) to create the Project.',
    );
    expect(missing.allowed || missing.violations[0]!.message).toBe(
      'Project shop names tenant "nope", and alice is not an owner of such a tenant',
    );
  });

  it('platform admins and the operator create projects for any tenant', () => {
    expect(
      validateProject({ ...p('nope'), userInfo: { username: 'root', groups: ['system:masters'] } }, ctx)
        .allowed,
    ).toBe(true);
  });
});

describe('Apps stay inside their tenant', () => {
  const app = (spec: Record<string, unknown>) => ({
    apiVersion: 'paas.kubeop.io/v1alpha1',
    kind: 'App',
    metadata: { name: 'web', namespace: NS },
    spec,
  });

  it('an image App from an allowed registry with hostnames under the domain is fine', () => {
    const ok = app({
      source: { image: { ref: 'ghcr.io/acme/web:1' } },
      expose: { hosts: ['www.acme.example'] },
    });
    expect(validateApp(request('App', ok), ctx)).toEqual({ allowed: true });
  });

  it('refuses raw manifests aimed at another namespace or at cluster-scoped kinds', () => {
    const raw = app({
      source: {
        raw: {
          manifests: [
            {
              apiVersion: 'v1',
              kind: 'ConfigMap',
              metadata: { name: 'c', namespace: 'globex-shop-12345678' },
            },
            {
              apiVersion: 'rbac.authorization.k8s.io/v1',
              kind: 'ClusterRoleBinding',
              metadata: { name: 'x' },
            },
            { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'fine', namespace: NS } },
          ],
        },
      },
    });
    const d = validateApp(request('App', raw), ctx);
    expect(d.allowed || denialMessage(d.violations)).toBe(
      `kubeOP rule app-namespace: spec.source.raw.manifests[0] (ConfigMap c) names namespace globex-shop-12345678; an App deploys into its own namespace ${NS} only. Fix: remove metadata.namespace from the manifest: kubeOP places it in the App's namespace. ` +
        "kubeOP rule app-namespace: spec.source.raw.manifests[1] (ClusterRoleBinding x) is cluster-scoped; an App deploys namespaced objects into its own namespace only. Fix: remove the ClusterRoleBinding from the App; cluster-scoped objects are the platform team's.",
    );
  });

  it("refuses images and hostnames the tenant may not use, in the App's source and in raw workloads", () => {
    const bad = app({
      source: {
        raw: {
          manifests: [
            {
              kind: 'Deployment',
              metadata: { name: 'd' },
              spec: { template: { spec: { containers: [{ name: 'c', image: 'nginx' }] } } },
            },
          ],
        },
      },
      expose: { hosts: ['www.globex.example', 'globex.acme.example'] },
    });
    expect(rules(validateApp(request('App', bad), ctx))).toEqual([
      'allowed-registries',
      'hostname-domain',
      'hostname-owner',
    ]);
    const badRef = app({ source: { image: { ref: 'docker.io/library/nginx' } } });
    expect(rules(validateApp(request('App', badRef), ctx))).toEqual(['allowed-registries']);
  });
});
