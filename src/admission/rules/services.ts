import {
  deny,
  record,
  str,
  strings,
  type AdmissionRequest,
  type Decision,
  type Violation,
} from '../review.ts';
import { isViolation, tenantOf, type RuleContext } from './context.ts';

const reasons: Record<string, string> = {
  NodePort: 'opens a port on every node of the cluster',
  LoadBalancer: 'asks the cloud for an external load balancer (and node ports)',
  ExternalName: 'is a DNS alias that ingress controllers may follow to any name (CVE-2021-25740)',
};

/**
 * Service types by tenant policy (rule `service-type`): ClusterIP (headless included) always;
 * NodePort and LoadBalancer only when the tenant's `spec.policy.allowedServiceTypes` lists them;
 * ExternalName never (the policy cannot list it). `spec.externalIPs` never (rule
 * `service-external-ips`): any address set there is captured cluster-wide (CVE-2020-8554), and the
 * tenant policy has no switch for it. On UPDATE only what the update changes is judged.
 */
export function validateService(req: AdmissionRequest, ctx: RuleContext): Decision {
  const t = tenantOf(req.namespace, ctx);
  if (isViolation(t)) return deny(t);
  const spec = record(record(req.object).spec);
  const oldSpec = record(record(req.oldObject).spec);
  const isUpdate = req.operation === 'UPDATE';
  const out: Violation[] = [];

  const type = str(spec.type) ?? 'ClusterIP';
  const oldType = str(oldSpec.type) ?? 'ClusterIP';
  const allowed = new Set(['ClusterIP', ...(t.tenant.spec.policy?.allowedServiceTypes ?? [])]);
  if (!allowed.has(type) && !(isUpdate && type === oldType)) {
    const tenant = t.ns.tenant;
    out.push({
      rule: 'service-type',
      message: `a Service of type ${type} ${reasons[type] ?? 'is not a known Service type'}; tenant ${tenant} allows ${[...allowed].join(', ')}`,
      fix:
        type === 'ExternalName'
          ? 'use a ClusterIP Service, or let the application reach the external name itself'
          : `use type ClusterIP and expose it through an Ingress or HTTPRoute, or ask a platform admin to add ${type} to spec.policy.allowedServiceTypes of Tenant ${tenant}`,
    });
  }

  const before = new Set(isUpdate ? strings(oldSpec.externalIPs) : []);
  const added = strings(spec.externalIPs).filter((ip) => !before.has(ip));
  if (added.length) {
    out.push({
      rule: 'service-external-ips',
      message: `spec.externalIPs (${added.join(', ')}) makes the cluster capture traffic for those addresses everywhere (CVE-2020-8554); tenants may not set it`,
      fix: 'remove spec.externalIPs and expose the Service through an Ingress, an HTTPRoute or, where the tenant allows it, type LoadBalancer',
    });
  }
  return deny(...out);
}
