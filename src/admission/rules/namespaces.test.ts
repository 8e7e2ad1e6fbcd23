import { describe, expect, it } from 'vitest';
import { managedLabels, NS, request, ruleContext } from '../../../test/support/admission-fixtures.ts';
import { denialMessage } from '../review.ts';
import { validateNamespaceLabels } from './namespaces.ts';

const ns = (labels: Record<string, string>) => ({
  apiVersion: 'v1',
  kind: 'Namespace',
  metadata: { name: NS, labels },
});
const tenantNs = ns({ ...managedLabels(), 'pod-security.kubernetes.io/enforce': 'restricted', team: 'a' });
const update = (labels: Record<string, string>, over = {}) =>
  validateNamespaceLabels(
    request('Namespace', ns(labels), { operation: 'UPDATE', name: NS, oldObject: tenantNs, ...over }),
    ruleContext(),
  );

describe("kubeOP's labels on tenant namespaces", () => {
  it('cannot be changed, removed or weakened by anyone untrusted', () => {
    const d = update({
      ...managedLabels(),
      'paas.kubeop.io/tenant': 'globex',
      'pod-security.kubernetes.io/enforce': 'privileged',
      team: 'a',
    });
    expect(d.allowed || denialMessage(d.violations)).toBe(
      `kubeOP rule namespace-labels: the labels paas.kubeop.io/tenant, pod-security.kubernetes.io/enforce of namespace ${NS} are kubeOP's; tenants cannot add, change or remove them. Fix: keep kubeOP's labels as they are; other labels and annotations may be changed.`,
    );
    expect(update({ team: 'a' }).allowed).toBe(false);
  });

  it('leave other labels free', () => {
    expect(
      update({
        ...managedLabels(),
        'pod-security.kubernetes.io/enforce': 'restricted',
        team: 'b',
        extra: 'x',
      }).allowed,
    ).toBe(true);
  });

  it('cannot be put on another namespace, or on a new one', () => {
    const other = validateNamespaceLabels(
      request('Namespace', ns({ 'paas.kubeop.io/tenant': 'acme' }), {
        operation: 'UPDATE',
        oldObject: ns({}),
      }),
      ruleContext(),
    );
    expect(other.allowed).toBe(false);
    const created = validateNamespaceLabels(request('Namespace', ns(managedLabels())), ruleContext());
    expect(created.allowed || created.violations[0]!.fix).toMatch(/^create a Project/);
    expect(validateNamespaceLabels(request('Namespace', ns({ team: 'x' })), ruleContext()).allowed).toBe(
      true,
    );
  });

  it("are the operator's to change", () => {
    expect(update({}, { userInfo: { username: 'system:serviceaccount:kubeop-system:kubeop' } }).allowed).toBe(
      true,
    );
  });
});
