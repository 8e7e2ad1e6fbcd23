import type { Tenant } from '../../schemas/crds/types.ts';
import {
  deny,
  nameOf,
  record,
  records,
  type AdmissionRequest,
  type Decision,
  type Violation,
} from '../review.ts';
import { appHosts, httpRouteHosts, ingressHosts, type TenancyView } from '../tenancy.ts';
import { isViolation, tenantOf, type RuleContext } from './context.ts';

/** True when `host` (possibly `*.x.example`) lies under `domain`: the domain itself or a subdomain. */
export function hostUnderDomain(host: string, domain: string): boolean {
  const h = host.toLowerCase().replace(/^\*\./, '');
  const d = domain.toLowerCase().replace(/^\*\./, '').replace(/\.$/, '');
  return h === d || h.endsWith(`.${d}`);
}

export interface HostnameCheck {
  /** Hostnames the request introduces. */
  hosts: string[];
  tenantName: string;
  tenant: Tenant;
  /** The object itself (kind, namespace, name), whose own claims do not count against it. */
  self: { kind: string; namespace: string; name: string | undefined };
  view: TenancyView;
}

/**
 * Hostnames only under the tenant's `spec.policy.allowedIngressDomains` (rule `hostname-domain`; an
 * empty or absent list allows any domain) and each hostname owned by one tenant (rule
 * `hostname-owner`): a hostname another tenant's Ingress, HTTPRoute or App already uses, or that a
 * namespace outside kubeOP's tenants uses, is refused. Other tenants' object names are never shown.
 *
 * Ownership is read from the cache here, which lags by the watch delay; the webhook server then
 * claims the hostnames atomically (hostnamesToClaim below, ../claims.ts) so that two tenants racing
 * for one new hostname cannot both get through.
 */
export function hostnameViolations(c: HostnameCheck): Violation[] {
  const domains = c.tenant.spec.policy?.allowedIngressDomains ?? [];
  const out: Violation[] = [];
  for (const host of c.hosts) {
    if (domains.length && !domains.some((d) => hostUnderDomain(host, d))) {
      out.push({
        rule: 'hostname-domain',
        message: `hostname ${host} is not under the domains of tenant ${c.tenantName} (${domains.join(', ')})`,
        fix: `use a hostname under ${domains.join(' or ')}, or ask a platform admin to add its domain to spec.policy.allowedIngressDomains of Tenant ${c.tenantName}`,
      });
      continue;
    }
    const others = c.view
      .hostClaims(host)
      .filter(
        (claim) =>
          claim.tenant !== c.tenantName &&
          !(claim.kind === c.self.kind && claim.namespace === c.self.namespace && claim.name === c.self.name),
      );
    if (others.length) {
      const owner = others.some((o) => o.tenant !== undefined)
        ? 'another tenant'
        : 'a namespace outside kubeOP tenants';
      out.push({
        rule: 'hostname-owner',
        message: `hostname ${host} is already in use by ${owner}`,
        fix: 'choose another hostname: a hostname belongs to the tenant that uses it first, until that tenant stops using it',
      });
    }
  }
  return out;
}

function catchAllViolation(what: string, fix: string): Violation {
  return {
    rule: 'hostname-required',
    message: `${what} would receive traffic for every hostname, including other tenants'`,
    fix,
  };
}

/** Ingress rules without a host and a default backend both match any hostname. */
function ingressCatchAll(obj: unknown): boolean {
  const spec = record(record(obj).spec);
  return (
    spec.defaultBackend !== undefined ||
    records(spec.rules).some((r) => typeof r.host !== 'string' || r.host === '')
  );
}

/**
 * Rule family for Ingresses and HTTPRoutes: hostnames under the tenant's domains, owned by the
 * tenant, and never a catch-all (an Ingress rule without `host`, a `defaultBackend`, or an HTTPRoute
 * without `hostnames`). On UPDATE only hostnames the update adds are judged.
 */
export function validateRoute(req: AdmissionRequest, ctx: RuleContext): Decision {
  const t = tenantOf(req.namespace, ctx);
  if (isViolation(t)) return deny(t);
  const isIngress = req.kind.kind === 'Ingress';
  const hostsOf = isIngress ? ingressHosts : httpRouteHosts;
  const isUpdate = req.operation === 'UPDATE';
  const out: Violation[] = [];

  if (isIngress) {
    if (ingressCatchAll(req.object) && !(isUpdate && ingressCatchAll(req.oldObject))) {
      out.push(
        catchAllViolation(
          'an Ingress rule without host, or a defaultBackend,',
          'set spec.rules[].host on every rule and remove spec.defaultBackend',
        ),
      );
    }
  } else if (hostsOf(req.object).length === 0 && !(isUpdate && hostsOf(req.oldObject).length === 0)) {
    out.push(
      catchAllViolation(
        'an HTTPRoute without spec.hostnames',
        "list the route's hostnames in spec.hostnames",
      ),
    );
  }

  const before = new Set(isUpdate ? hostsOf(req.oldObject) : []);
  out.push(
    ...hostnameViolations({
      hosts: hostsOf(req.object).filter((h) => !before.has(h)),
      tenantName: t.ns.tenant,
      tenant: t.tenant,
      self: { kind: req.kind.kind, namespace: t.ns.namespace, name: req.name ?? nameOf(req.object) },
      view: ctx.view,
    }),
  );
  return deny(...out);
}

/**
 * The hostnames an allowed Ingress, HTTPRoute or App request makes its tenant use, to be recorded as
 * claims (see ../claims.ts) before the request is admitted. On UPDATE only added hostnames count, as
 * in the rules above: an unrelated change never depends on hostnames the object already had.
 */
export function hostnamesToClaim(
  req: AdmissionRequest,
  ctx: RuleContext,
): { tenant: string; hosts: string[] } | undefined {
  if (req.operation !== 'CREATE' && req.operation !== 'UPDATE') return undefined;
  const hostsOf =
    req.kind.kind === 'Ingress'
      ? ingressHosts
      : req.kind.kind === 'HTTPRoute'
        ? httpRouteHosts
        : req.kind.kind === 'App'
          ? appHosts
          : undefined;
  if (!hostsOf) return undefined;
  const t = tenantOf(req.namespace, ctx);
  if (isViolation(t)) return undefined;
  const before = new Set(req.operation === 'UPDATE' ? hostsOf(req.oldObject) : []);
  const hosts = hostsOf(req.object).filter((h) => !before.has(h));
  return hosts.length ? { tenant: t.ns.tenant, hosts } : undefined;
}

/** The denial for hostnames another tenant claimed first (possibly a moment ago, not yet cached). */
export function claimedElsewhere(hosts: string[]): Violation[] {
  return hosts.map((host) => ({
    rule: 'hostname-owner',
    message: `hostname ${host} is already in use by another tenant`,
    fix: 'choose another hostname: a hostname belongs to the tenant that uses it first, until that tenant stops using it',
  }));
}
