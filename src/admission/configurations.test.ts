import { describe, expect, it } from 'vitest';
import { liveCaBundles, renderWebhookConfigurations } from './configurations.ts';
import { WEBHOOKS } from './webhooks.ts';

const pem = '-----BEGIN CERTIFICATE-----\nabc\n-----END CERTIFICATE-----\n';
const base = {
  caBundlePem: pem,
  systemNamespace: 'kubeop-system',
  trusted: { operatorUsername: 'system:serviceaccount:kubeop-system:kubeop' },
  timeoutSeconds: 3,
};
type Hook = Record<string, unknown> & { clientConfig: Record<string, unknown>; name: string };
const hooks = (c: Record<string, unknown>) => c.webhooks as Hook[];

describe('webhook configurations generated from code', () => {
  const [validating, mutating] = renderWebhookConfigurations({
    ...base,
    endpoint: { url: 'https://127.0.0.1:9443/' },
  });

  it('has one validating configuration and one mutating, covering every webhook once', () => {
    expect(validating.kind).toBe('ValidatingWebhookConfiguration');
    expect(mutating.kind).toBe('MutatingWebhookConfiguration');
    expect([...hooks(validating), ...hooks(mutating)].map((h) => h.name).sort()).toEqual(
      WEBHOOKS.map((w) => w.name).sort(),
    );
    expect(hooks(mutating).map((h) => h.reinvocationPolicy)).toEqual(['IfNeeded']);
  });

  it('fails closed, quickly, without side effects, on v1 reviews', () => {
    for (const h of [...hooks(validating), ...hooks(mutating)]) {
      expect(h).toMatchObject({
        failurePolicy: 'Fail',
        sideEffects: 'None',
        timeoutSeconds: 3,
        admissionReviewVersions: ['v1'],
        matchPolicy: 'Equivalent',
      });
    }
  });

  it("never applies to kube-system or kubeOP's own namespace, and otherwise only to tenant namespaces", () => {
    for (const h of [...hooks(validating), ...hooks(mutating)]) {
      if (h.name.startsWith('projects.')) {
        expect(h.namespaceSelector).toBeUndefined();
        continue;
      }
      const expressions = (h.namespaceSelector as { matchExpressions: unknown[] }).matchExpressions;
      expect(expressions, h.name).toContainEqual({
        key: 'kubernetes.io/metadata.name',
        operator: 'NotIn',
        values: ['kube-system', 'kubeop-system'],
      });
      if (!h.name.startsWith('namespaces.')) {
        expect(expressions).toContainEqual({
          key: 'app.kubernetes.io/managed-by',
          operator: 'In',
          values: ['kubeop'],
        });
        expect(expressions).toContainEqual({ key: 'paas.kubeop.io/tenant', operator: 'Exists' });
      }
    }
    const ns = hooks(validating).find((h) => h.name.startsWith('namespaces.'))!;
    expect(ns.objectSelector).toEqual({
      matchExpressions: [{ key: 'paas.kubeop.io/tenant', operator: 'Exists' }],
    });
  });

  it('polices only the kinds and operations of its rules', () => {
    const byName = Object.fromEntries(hooks(validating).map((h) => [h.name, h.rules]));
    expect(byName['managed.validate.paas.kubeop.io']).toContainEqual(
      expect.objectContaining({ resources: ['networkpolicies'], operations: ['CREATE', 'UPDATE', 'DELETE'] }),
    );
    expect(hooks(mutating)[0]!.rules).toEqual([
      {
        apiGroups: [''],
        apiVersions: ['v1'],
        resources: ['pods'],
        operations: ['CREATE'],
        scope: 'Namespaced',
      },
    ]);
    for (const h of hooks(validating)) {
      for (const r of h.rules as Array<{ resources: string[] }>) {
        expect(r.resources.filter((x) => x.includes('/'))).toEqual(
          h.name.startsWith('workloads.') && r.resources[0] === 'pods/ephemeralcontainers'
            ? ['pods/ephemeralcontainers']
            : [],
        );
      }
    }
  });

  it('skips trusted identities with a matchCondition only where the rule exempts them', () => {
    const skip = hooks(validating)
      .filter((h) => h.matchConditions)
      .map((h) => h.name)
      .sort();
    expect(skip).toEqual([
      'managed.validate.paas.kubeop.io',
      'namespaces.validate.paas.kubeop.io',
      'projects.validate.paas.kubeop.io',
      'volumes.validate.paas.kubeop.io',
    ]);
  });

  it('points at a URL or a Service, with the path of each webhook and the CA bundle', () => {
    expect(hooks(validating)[0]!.clientConfig).toEqual({
      url: 'https://127.0.0.1:9443/validate/workloads',
      caBundle: Buffer.from(pem).toString('base64'),
    });
    const [v] = renderWebhookConfigurations({
      ...base,
      endpoint: { service: { namespace: 'kubeop-system', name: 'kubeop-webhook', port: 443 } },
    });
    expect(hooks(v)[0]!.clientConfig).toEqual({
      service: { namespace: 'kubeop-system', name: 'kubeop-webhook', port: 443, path: '/validate/workloads' },
      caBundle: Buffer.from(pem).toString('base64'),
    });
    expect(liveCaBundles(v)).toEqual(hooks(v).map(() => pem));
  });

  it('changes its hash exactly when the content changes', () => {
    const again = renderWebhookConfigurations({ ...base, endpoint: { url: 'https://127.0.0.1:9443/' } });
    const other = renderWebhookConfigurations({
      ...base,
      caBundlePem: pem + pem,
      endpoint: { url: 'https://127.0.0.1:9443/' },
    });
    const hash = (c: { metadata: { annotations?: Record<string, string> } }) =>
      c.metadata.annotations?.['paas.kubeop.io/config-hash'];
    expect(hash(again[0])).toBe(hash(validating));
    expect(hash(other[0])).not.toBe(hash(validating));
  });
});
