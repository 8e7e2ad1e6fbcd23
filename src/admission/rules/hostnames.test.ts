import { describe, expect, it } from 'vitest';
import { fakeView, NS, request, ruleContext, tenant } from '../../../test/support/admission-fixtures.ts';
import { denialMessage } from '../review.ts';
import { claimName } from '../claims.ts';
import { hostnamesToClaim, hostUnderDomain, validateRoute } from './hostnames.ts';

const ingress = (rules: unknown[], extra: Record<string, unknown> = {}) => ({
  apiVersion: 'networking.k8s.io/v1',
  kind: 'Ingress',
  metadata: { name: 'web' },
  spec: { rules, ...extra },
});
const rule = (host?: string) => ({ ...(host ? { host } : {}), http: { paths: [] } });
const route = (hostnames?: string[]) => ({
  kind: 'HTTPRoute',
  metadata: { name: 'r' },
  spec: hostnames ? { hostnames } : {},
});
const rules = (d: ReturnType<typeof validateRoute>) => (d.allowed ? [] : d.violations.map((v) => v.rule));

const claimsBy = (owner: string | undefined) =>
  ruleContext(
    fakeView({
      claims: [
        { host: 'shop.acme.example', kind: 'Ingress', namespace: 'other-ns', name: 'theirs', tenant: owner },
      ],
    }),
  );

describe('hostnames under the tenant domains', () => {
  it('knows what lies under a domain', () => {
    expect(hostUnderDomain('acme.example', 'acme.example')).toBe(true);
    expect(hostUnderDomain('a.b.acme.example', 'acme.example')).toBe(true);
    expect(hostUnderDomain('*.apps.acme.example', 'acme.example')).toBe(true);
    expect(hostUnderDomain('evilacme.example', 'acme.example')).toBe(false);
    expect(hostUnderDomain('acme.example.evil', 'acme.example')).toBe(false);
  });

  it('allows an Ingress under the domain and refuses one outside, saying where to go', () => {
    expect(
      validateRoute(request('Ingress', ingress([rule('www.acme.example')])), ruleContext()).allowed,
    ).toBe(true);
    const d = validateRoute(
      request('Ingress', ingress([rule('www.acme.example')], { tls: [{ hosts: ['shop.other.example'] }] })),
      ruleContext(),
    );
    expect(d.allowed || denialMessage(d.violations)).toBe(
      'kubeOP rule hostname-domain: hostname shop.other.example is not under the domains of tenant acme (acme.example). Fix: use a hostname under acme.example, or ask a platform admin to add its domain to spec.policy.allowedIngressDomains of Tenant acme.',
    );
  });

  it('allows any domain when the tenant lists none, but still one owner per hostname', () => {
    const ctx = ruleContext(
      fakeView({
        tenants: [tenant('acme', {})],
        claims: [{ host: 'x.example', kind: 'Ingress', namespace: 'n', name: 'i', tenant: 'globex' }],
      }),
    );
    expect(validateRoute(request('Ingress', ingress([rule('anything.example')])), ctx).allowed).toBe(true);
    expect(rules(validateRoute(request('Ingress', ingress([rule('x.example')])), ctx))).toEqual([
      'hostname-owner',
    ]);
  });

  it('refuses catch-all Ingress rules and default backends', () => {
    expect(rules(validateRoute(request('Ingress', ingress([rule()])), ruleContext()))).toEqual([
      'hostname-required',
    ]);
    const backend = ingress([rule('a.acme.example')], {
      defaultBackend: { service: { name: 's', port: { number: 80 } } },
    });
    expect(rules(validateRoute(request('Ingress', backend), ruleContext()))).toEqual(['hostname-required']);
  });

  it('applies to HTTPRoutes, which must list their hostnames', () => {
    expect(validateRoute(request('HTTPRoute', route(['api.acme.example'])), ruleContext()).allowed).toBe(
      true,
    );
    expect(rules(validateRoute(request('HTTPRoute', route()), ruleContext()))).toEqual(['hostname-required']);
    expect(rules(validateRoute(request('HTTPRoute', route(['api.globex.example'])), ruleContext()))).toEqual([
      'hostname-domain',
    ]);
  });
});

describe('one hostname, one tenant', () => {
  it("refuses a hostname another tenant uses, without naming the other tenant's objects", () => {
    const d = validateRoute(request('Ingress', ingress([rule('shop.acme.example')])), claimsBy('globex'));
    expect(d.allowed || denialMessage(d.violations)).toBe(
      'kubeOP rule hostname-owner: hostname shop.acme.example is already in use by another tenant. Fix: choose another hostname: a hostname belongs to the tenant that uses it first, until that tenant stops using it.',
    );
  });

  it('refuses a hostname used outside kubeOP tenants', () => {
    const d = validateRoute(request('Ingress', ingress([rule('shop.acme.example')])), claimsBy(undefined));
    expect(d.allowed || d.violations[0]!.message).toContain('a namespace outside kubeOP tenants');
  });

  it('lets the same tenant reuse its hostname in another project, and an object keep its own', () => {
    expect(
      validateRoute(request('Ingress', ingress([rule('shop.acme.example')])), claimsBy('acme')).allowed,
    ).toBe(true);
    const own = ruleContext(
      fakeView({
        claims: [{ host: 'shop.acme.example', kind: 'Ingress', namespace: NS, name: 'web', tenant: 'acme' }],
      }),
    );
    expect(validateRoute(request('Ingress', ingress([rule('shop.acme.example')])), own).allowed).toBe(true);
  });

  it('on update judges only hostnames the update adds', () => {
    const old = ingress([rule('shop.acme.example')]);
    const same = ingress([rule('shop.acme.example')], { ingressClassName: 'nginx' });
    expect(
      validateRoute(request('Ingress', same, { operation: 'UPDATE', oldObject: old }), claimsBy('globex'))
        .allowed,
    ).toBe(true);
  });
});

describe('hostnames an admitted request claims', () => {
  it('claims every hostname of a new Ingress for the tenant of its namespace, lower-cased', () => {
    const req = request(
      'Ingress',
      ingress([rule('WWW.acme.example')], { tls: [{ hosts: ['api.acme.example'] }] }),
    );
    expect(hostnamesToClaim(req, ruleContext())).toEqual({
      tenant: 'acme',
      hosts: ['www.acme.example', 'api.acme.example'],
    });
  });

  it('claims only the hostnames an update adds, and nothing for an update that adds none', () => {
    const old = ingress([rule('www.acme.example')]);
    const added = request('Ingress', ingress([rule('www.acme.example'), rule('new.acme.example')]), {
      operation: 'UPDATE',
      oldObject: old,
    });
    expect(hostnamesToClaim(added, ruleContext())?.hosts).toEqual(['new.acme.example']);
    const same = request('Ingress', ingress([rule('www.acme.example')]), {
      operation: 'UPDATE',
      oldObject: old,
    });
    expect(hostnamesToClaim(same, ruleContext())).toBeUndefined();
  });

  it('claims the hostnames of HTTPRoutes and Apps, and none for other kinds, deletes or unknown namespaces', () => {
    expect(hostnamesToClaim(request('HTTPRoute', route(['r.acme.example'])), ruleContext())?.hosts).toEqual([
      'r.acme.example',
    ]);
    const app = { kind: 'App', metadata: { name: 'a' }, spec: { expose: { hosts: ['a.acme.example'] } } };
    expect(hostnamesToClaim(request('App', app), ruleContext())?.hosts).toEqual(['a.acme.example']);
    expect(hostnamesToClaim(request('Service', { metadata: { name: 's' } }), ruleContext())).toBeUndefined();
    expect(
      hostnamesToClaim(
        request('Ingress', ingress([rule('x.acme.example')]), { operation: 'DELETE' }),
        ruleContext(),
      ),
    ).toBeUndefined();
    expect(
      hostnamesToClaim(
        request('Ingress', ingress([rule('x.acme.example')]), { namespace: 'unknown' }),
        ruleContext(),
      ),
    ).toBeUndefined();
  });

  it('names a claim by the hostname alone: stable, case-insensitive, a valid object name', () => {
    expect(claimName('Shop.Acme.Example')).toBe(claimName('shop.acme.example'));
    expect(claimName('shop.acme.example')).not.toBe(claimName('shop.acme.example2'));
    expect(claimName('x'.repeat(253))).toMatch(/^host-[0-9a-f]{40}$/);
  });
});
