import { describe, expect, it } from 'vitest';
import { celRules, celViolations, isCidr } from './cel.ts';
import { crdDefinitions } from './crds/definitions.ts';
import { celCases as cases, quantityCases, tenant } from '../../test/support/cel-cases.ts';

const spec = (kind: string) => crdDefinitions.find((d) => d.kind === kind)!.spec;

describe('celViolations', () => {
  it.each(cases)('$kind: accepts a value that keeps "$message"', ({ kind, accept, old }) => {
    expect(celViolations(spec(kind), accept, old)).toEqual([]);
  });

  it.each(cases)('$kind: refuses a value that breaks "$message"', ({ kind, refuse, old, message, path }) => {
    expect(celViolations(spec(kind), refuse, old)).toContainEqual({ path, message });
  });

  it('covers every distinct rule of the CRDs with a case above', () => {
    const rules = crdDefinitions.flatMap((d) => [...celRules(d.spec), ...celRules(d.status)]);
    const textsByMessage = new Map<string, Set<string>>();
    for (const r of rules)
      textsByMessage.set(r.message, (textsByMessage.get(r.message) ?? new Set()).add(r.rule));
    // One message per rule text, so covering a message covers exactly one rule.
    for (const [message, texts] of textsByMessage)
      expect({ message, rules: texts.size }).toEqual({ message, rules: 1 });
    const covered = new Set(cases.map((c) => c.message));
    expect([...textsByMessage.keys()].filter((m) => !covered.has(m))).toEqual([]);
    expect([...covered].filter((m) => !textsByMessage.has(m))).toEqual([]);
  });

  it('skips transition rules when there is no stored value (a create)', () => {
    expect(celViolations(spec('Project'), { tenantRef: { name: 'other' } })).toEqual([]);
  });

  it('reports every broken rule, each at its own path', () => {
    const v = celViolations(spec('App'), {
      source: { git: { url: 'https://x/r', branch: 'a', tag: 'b' } },
      resources: { limits: { cpu: 'many' } },
      autoscaling: { minReplicas: 5, maxReplicas: 1 },
    });
    expect(v.map((x) => x.path)).toEqual(['/source/git', '/resources/limits/cpu', '/autoscaling']);
  });

  it('leaves free-form values (Helm values, raw manifests) alone', () => {
    const raw = { source: { raw: { manifests: [{ kind: 'ConfigMap', data: { cpu: 'lots', n: 1.5 } }] } } };
    expect(celViolations(spec('App'), raw)).toEqual([]);
  });
});

describe('quantities', () => {
  const quota = (cpu: string) => celViolations(spec('Tenant'), { ...tenant, quota: { cpu } });
  it.each(['1', '500m', '1.5Gi', '2e3', '1E-3', '+4k', '0.1'])('accepts %s', (q) =>
    expect(quota(q)).toEqual([]),
  );
  it.each(['lots', ' 1', '1 ', '1Gb', '1e999999999', '1e-100', '--1', ''])('refuses %s, quickly', (q) => {
    const started = performance.now();
    expect(quota(q)).toHaveLength(1);
    expect(performance.now() - started).toBeLessThan(1000);
  });
});

describe('quantities as Kubernetes answers them', () => {
  it.each(quantityCases)('%s: %s', (q, verdict) => {
    const messages = celViolations(spec('Tenant'), { ...tenant, quota: { cpu: q } });
    expect(messages).toEqual(verdict === true ? [] : [{ path: '/quota/cpu', message: verdict }]);
  });
});

describe('isCidr', () => {
  it.each(['10.0.0.0/8', '0.0.0.0/0', '192.168.1.1/32', '::/0', '2001:db8::/32', '::ffff:10.0.0.0/104'])(
    'accepts %s',
    (c) => expect(isCidr(c)).toBe(true),
  );
  it.each([
    '10.0.0.0',
    '10.0.0/8',
    '010.0.0.0/8',
    '10.0.0.0/33',
    '256.0.0.0/8',
    '::/129',
    'fe80::1%eth0/64',
    'x/8',
    '10.0.0.0/08',
    ' 10.0.0.0/8',
  ])('refuses %s', (c) => expect(isCidr(c)).toBe(false));
});
