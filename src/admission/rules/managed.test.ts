import { describe, expect, it } from 'vitest';
import { managedLabels, request, ruleContext } from '../../../test/support/admission-fixtures.ts';
import { denialMessage } from '../review.ts';
import { validateManagedObject } from './managed.ts';

const np = (name: string, labels: Record<string, string> = managedLabels()) => ({
  apiVersion: 'networking.k8s.io/v1',
  kind: 'NetworkPolicy',
  metadata: { name, labels },
  spec: { podSelector: {} },
});
const operator = { username: 'system:serviceaccount:kubeop-system:kubeop', groups: [] };

describe('kubeOP-managed objects in tenant namespaces', () => {
  it('a tenant cannot delete the default-deny policy; the message says what to do instead', () => {
    const d = validateManagedObject(
      request('NetworkPolicy', undefined, {
        operation: 'DELETE',
        name: 'kubeop-default-deny',
        oldObject: np('kubeop-default-deny'),
      }),
      ruleContext(),
    );
    expect(d.allowed || denialMessage(d.violations)).toBe(
      'kubeOP rule managed-object: NetworkPolicy kubeop-default-deny is managed by kubeOP; tenants cannot delete it. Fix: create a NetworkPolicy of your own next to it: policies add up, so yours can allow the traffic you need.',
    );
  });

  it.each(['ResourceQuota', 'LimitRange', 'Role', 'RoleBinding', 'ServiceAccount'])(
    'a tenant cannot change a managed %s',
    (kind) => {
      const old = { kind, metadata: { name: 'kubeop-x', labels: managedLabels() } };
      const edited = { ...old, metadata: { ...old.metadata, labels: {} } };
      const d = validateManagedObject(
        request(kind, edited, { operation: 'UPDATE', oldObject: old }),
        ruleContext(),
      );
      expect(d.allowed || d.violations[0]!.message).toBe(
        `${kind} kubeop-x is managed by kubeOP; tenants cannot change it`,
      );
    },
  );

  it('a tenant cannot create objects that look managed', () => {
    const byName = validateManagedObject(
      request('RoleBinding', np('kubeop-admin-members', {})),
      ruleContext(),
    );
    const byLabel = validateManagedObject(request('NetworkPolicy', np('mine')), ruleContext());
    for (const d of [byName, byLabel]) expect(d.allowed || d.violations[0]!.rule).toBe('managed-object');
    const relabel = validateManagedObject(
      request('NetworkPolicy', np('mine'), { operation: 'UPDATE', oldObject: np('mine', {}) }),
      ruleContext(),
    );
    expect(relabel.allowed).toBe(false);
  });

  it('a tenant manages its own policies, roles and bindings freely', () => {
    const mine = np('allow-web', { app: 'web' });
    expect(validateManagedObject(request('NetworkPolicy', mine), ruleContext()).allowed).toBe(true);
    expect(
      validateManagedObject(
        request('NetworkPolicy', undefined, { operation: 'DELETE', oldObject: mine }),
        ruleContext(),
      ).allowed,
    ).toBe(true);
  });

  it('the operator, system:masters and kube-system controllers pass', () => {
    for (const userInfo of [
      operator,
      { username: 'admin', groups: ['system:masters'] },
      { username: 'system:serviceaccount:kube-system:namespace-controller' },
    ]) {
      const req = request('NetworkPolicy', undefined, {
        operation: 'DELETE',
        userInfo,
        oldObject: np('kubeop-default-deny'),
      });
      expect(validateManagedObject(req, ruleContext()).allowed).toBe(true);
    }
  });

  it('a differently configured operator name is the one trusted', () => {
    const req = request('NetworkPolicy', undefined, {
      operation: 'DELETE',
      userInfo: operator,
      oldObject: np('kubeop-x'),
    });
    expect(
      validateManagedObject(req, ruleContext(undefined, { trusted: { operatorUsername: 'kubeop' } })).allowed,
    ).toBe(false);
  });
});

describe('the manager and member kubeconfigs', () => {
  const manager = 'system:serviceaccount:kubeop-system:kubeop-manager';
  const ctx = ruleContext(undefined, {
    trusted: { operatorUsername: operator.username, managerUsername: manager },
  });
  const sa = (name: string, labels: Record<string, string> = {}) => ({
    apiVersion: 'v1',
    kind: 'ServiceAccount',
    metadata: { name, labels },
  });

  it('lets the manager create and delete the kubeop-member-* accounts behind member kubeconfigs', () => {
    const user = { username: manager, groups: [] };
    expect(
      validateManagedObject(request('ServiceAccount', sa('kubeop-member-view-abc'), { userInfo: user }), ctx)
        .allowed,
    ).toBe(true);
    expect(
      validateManagedObject(
        request('ServiceAccount', undefined, {
          operation: 'DELETE',
          name: 'kubeop-member-view-abc',
          oldObject: sa('kubeop-member-view-abc'),
          userInfo: user,
        }),
        ctx,
      ).allowed,
    ).toBe(true);
  });

  it('trusts the manager for nothing else, and nobody else for member names', () => {
    const user = { username: manager, groups: [] };
    expect(
      validateManagedObject(request('ServiceAccount', sa('kubeop-deployer'), { userInfo: user }), ctx)
        .allowed,
    ).toBe(false);
    expect(
      validateManagedObject(
        request('ServiceAccount', sa('kubeop-member-x', managedLabels()), { userInfo: user }),
        ctx,
      ).allowed,
    ).toBe(false);
    expect(
      validateManagedObject(request('NetworkPolicy', np('kubeop-member-x', {}), { userInfo: user }), ctx)
        .allowed,
    ).toBe(false);
    expect(
      validateManagedObject(
        request('ServiceAccount', sa('kubeop-member-view-abc'), {
          userInfo: { username: 'alice', groups: [] },
        }),
        ctx,
      ).allowed,
    ).toBe(false);
  });
});
