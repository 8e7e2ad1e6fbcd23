import { describe, expect, it } from 'vitest';
import { fakeView, request, ruleContext, tenant } from '../../../test/support/admission-fixtures.ts';
import { denialMessage } from '../review.ts';
import { validateService } from './services.ts';

const svc = (spec: Record<string, unknown>) => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name: 's' },
  spec,
});
const rules = (d: ReturnType<typeof validateService>) => (d.allowed ? [] : d.violations.map((v) => v.rule));
const withTypes = (types: Array<'ClusterIP' | 'NodePort' | 'LoadBalancer'> | undefined) =>
  ruleContext(fakeView({ tenants: [tenant('acme', types ? { allowedServiceTypes: types } : {})] }));

describe('service types by tenant policy', () => {
  it('always allows ClusterIP and headless services', () => {
    expect(
      validateService(request('Service', svc({ type: 'ClusterIP' })), withTypes(undefined)).allowed,
    ).toBe(true);
    expect(validateService(request('Service', svc({ clusterIP: 'None' })), withTypes([])).allowed).toBe(true);
  });

  it('refuses NodePort by default (PL1-BC-HI-2) and says how to fix it', () => {
    const d = validateService(request('Service', svc({ type: 'NodePort' })), withTypes(undefined));
    expect(d.allowed || denialMessage(d.violations)).toBe(
      'kubeOP rule service-type: a Service of type NodePort opens a port on every node of the cluster; tenant acme allows ClusterIP. Fix: use type ClusterIP and expose it through an Ingress or HTTPRoute, or ask a platform admin to add NodePort to spec.policy.allowedServiceTypes of Tenant acme.',
    );
  });

  it('allows NodePort and LoadBalancer when the tenant policy lists them', () => {
    const ctx = withTypes(['ClusterIP', 'NodePort', 'LoadBalancer']);
    expect(validateService(request('Service', svc({ type: 'NodePort' })), ctx).allowed).toBe(true);
    expect(validateService(request('Service', svc({ type: 'LoadBalancer' })), ctx).allowed).toBe(true);
    expect(
      rules(validateService(request('Service', svc({ type: 'LoadBalancer' })), withTypes(['NodePort']))),
    ).toEqual(['service-type']);
  });

  it('never allows ExternalName or external IPs', () => {
    const ctx = withTypes(['ClusterIP', 'NodePort', 'LoadBalancer']);
    expect(
      rules(
        validateService(request('Service', svc({ type: 'ExternalName', externalName: 'db.example' })), ctx),
      ),
    ).toEqual(['service-type']);
    const d = validateService(request('Service', svc({ externalIPs: ['10.0.0.10'] })), ctx);
    expect(rules(d)).toEqual(['service-external-ips']);
    expect(d.allowed || d.violations[0]!.message).toContain('CVE-2020-8554');
  });

  it('on update judges only what changes', () => {
    const old = svc({ type: 'NodePort', externalIPs: ['10.0.0.10'] });
    const relabelled = { ...old, metadata: { name: 's', labels: { a: 'b' } } };
    expect(
      validateService(
        request('Service', relabelled, { operation: 'UPDATE', oldObject: old }),
        withTypes(undefined),
      ).allowed,
    ).toBe(true);
    const more = svc({ type: 'NodePort', externalIPs: ['10.0.0.10', '10.0.0.11'] });
    const d = validateService(
      request('Service', more, { operation: 'UPDATE', oldObject: old }),
      withTypes(undefined),
    );
    expect(d.allowed || d.violations.map((v) => v.message)).toEqual([expect.stringContaining('(10.0.0.11)')]);
    const toLb = svc({ type: 'LoadBalancer' });
    expect(
      rules(
        validateService(
          request('Service', toLb, { operation: 'UPDATE', oldObject: svc({}) }),
          withTypes(undefined),
        ),
      ),
    ).toEqual(['service-type']);
  });
});
