import { describe, expect, it } from 'vitest';
import type { Project, Tenant } from '../../../schemas/crds/types.ts';
import {
  defaultLimits,
  renderAccess,
  renderLimitRange,
  renderMemberBindings,
  renderNamespace,
  renderNetworkPolicies,
} from './render.ts';

const tenant = (policy: Tenant['spec']['policy'] = {}): Tenant => ({
  apiVersion: 'paas.kubeop.io/v1alpha1',
  kind: 'Tenant',
  metadata: { name: 'acme' },
  spec: { owners: [{ kind: 'User', name: 'olivia' }], policy },
});

const project = (spec: Partial<Project['spec']> = {}): Project => ({
  apiVersion: 'paas.kubeop.io/v1alpha1',
  kind: 'Project',
  metadata: { name: 'web', uid: 'uid-1' },
  spec: { tenantRef: { name: 'acme' }, ...spec },
});

const opts = { ingressNamespace: 'ingress-nginx' };

describe('project rendering', () => {
  it('labels the namespace with its tenant and project and enforces Pod Security restricted', () => {
    const ns = renderNamespace(project(), 'acme-web-1234abcd');
    expect(ns.metadata.labels).toMatchObject({
      'paas.kubeop.io/tenant': 'acme',
      'paas.kubeop.io/project': 'web',
      'app.kubernetes.io/managed-by': 'kubeop',
      'pod-security.kubernetes.io/enforce': 'restricted',
    });
    expect(ns.metadata.ownerReferences).toEqual([
      { apiVersion: 'paas.kubeop.io/v1alpha1', kind: 'Project', name: 'web', uid: 'uid-1', controller: true },
    ]);
  });

  it('gives containers default requests and limits when the project sets none', () => {
    const lr = renderLimitRange(project(), 'ns') as unknown as {
      spec: { limits: Array<Record<string, unknown>> };
    };
    expect(lr.spec.limits[0]).toEqual({ type: 'Container', ...defaultLimits });
  });

  it('uses the project limits, including max', () => {
    const lr = renderLimitRange(
      project({ limits: { default: { cpu: '1' }, defaultRequest: { memory: '64Mi' }, max: { cpu: '2' } } }),
      'ns',
    ) as unknown as { spec: { limits: Array<Record<string, unknown>> } };
    expect(lr.spec.limits[0]).toEqual({
      type: 'Container',
      default: { cpu: '1' },
      defaultRequest: { memory: '64Mi' },
      max: { cpu: '2' },
    });
  });

  it('denies all traffic by default and allows the project, the ingress controller and DNS', () => {
    const names = renderNetworkPolicies(tenant(), project(), 'ns', opts).map((p) => p.metadata.name);
    expect(names).toEqual([
      'kubeop-default-deny',
      'kubeop-allow-same-project',
      'kubeop-allow-ingress-controller',
      'kubeop-allow-dns',
    ]);
    const deny = renderNetworkPolicies(tenant(), project(), 'ns', opts)[0] as unknown as { spec: unknown };
    expect(deny.spec).toEqual({ podSelector: {}, policyTypes: ['Ingress', 'Egress'] });
  });

  it('opens the tenant in Tenant isolation mode', () => {
    const same = renderNetworkPolicies(
      tenant(),
      project({ network: { isolation: 'Tenant' } }),
      'ns',
      opts,
    )[1] as unknown as {
      spec: { ingress: Array<{ from: unknown }> };
    };
    expect(same.spec.ingress[0]?.from).toEqual([
      { namespaceSelector: { matchLabels: { 'paas.kubeop.io/tenant': 'acme' } } },
    ]);
  });

  it('allows the tenant egress CIDRs only when there are some', () => {
    const withCidrs = renderNetworkPolicies(tenant({ egressCIDRs: ['10.1.0.0/16'] }), project(), 'ns', opts);
    expect(withCidrs.at(-1)).toMatchObject({
      metadata: { name: 'kubeop-allow-egress-cidrs' },
      spec: { egress: [{ to: [{ ipBlock: { cidr: '10.1.0.0/16' } }] }] },
    });
  });

  it('renders namespaced roles only, none of which can write quotas or limit ranges', () => {
    const objects = renderAccess(project(), 'ns');
    expect(objects.map((o) => o.kind)).not.toContain('ClusterRole');
    for (const role of objects.filter((o) => o.kind === 'Role')) {
      for (const rule of role.rules as Array<{ resources: string[]; verbs: string[] }>) {
        const writes = rule.verbs.some((v) => ['create', 'update', 'patch', 'delete'].includes(v));
        if (writes) expect(rule.resources).not.toContain('resourcequotas');
        if (writes) expect(rule.resources).not.toContain('limitranges');
      }
    }
  });

  it('binds tenant owners as admins and members by role, without duplicates', () => {
    const bindings = renderMemberBindings(
      tenant(),
      project({
        members: [
          { kind: 'User', name: 'dev', role: 'edit' },
          { kind: 'Group', name: 'auditors', role: 'view' },
          { kind: 'User', name: 'olivia', role: 'admin' },
        ],
      }),
      'ns',
    );
    expect(bindings.map((b) => [b.metadata.name, b.roleRef, b.subjects])).toEqual([
      [
        'kubeop-admin-members',
        { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'kubeop-admin' },
        [{ kind: 'User', name: 'olivia', apiGroup: 'rbac.authorization.k8s.io' }],
      ],
      [
        'kubeop-edit-members',
        { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'kubeop-edit' },
        [{ kind: 'User', name: 'dev', apiGroup: 'rbac.authorization.k8s.io' }],
      ],
      [
        'kubeop-view-members',
        { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'kubeop-view' },
        [{ kind: 'Group', name: 'auditors', apiGroup: 'rbac.authorization.k8s.io' }],
      ],
    ]);
  });
});
