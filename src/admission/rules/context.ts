import type { Tenant } from '../../schemas/crds/types.ts';
import type { TrustedIdentities } from '../identity.ts';
import type { AdmissionRequest, Decision, Violation } from '../review.ts';
import type { NamespaceTenancy, TenancyView } from '../tenancy.ts';

/** What every rule family gets besides the request. */
export interface RuleContext {
  view: TenancyView;
  trusted: TrustedIdentities;
  /** `Always`: images not pinned by digest are pulled on every start (PL1-CC-DI-1); `Keep`: untouched. */
  imagePullPolicy: 'Always' | 'Keep';
}

/** A rule family: a pure function of the request and the cached cluster view. It may throw; the
 * server turns an exception into a denial. */
export type RuleFamily = (req: AdmissionRequest, ctx: RuleContext) => Decision;

export interface TenantOfRequest {
  ns: NamespaceTenancy;
  tenant: Tenant;
}

/**
 * The tenant whose policy governs a request in namespace `namespace`. The webhook configurations
 * only send requests from kubeOP tenant namespaces, so a namespace the cache does not know is one
 * created moments ago (the watch lags): that is refused with a retryable message rather than let
 * through unchecked (fail closed).
 */
export function tenantOf(namespace: string | undefined, ctx: RuleContext): TenantOfRequest | Violation {
  const ns = namespace ? ctx.view.namespace(namespace) : undefined;
  if (!ns) {
    return {
      rule: 'tenancy-unknown',
      message: `namespace ${namespace ?? '(none)'} is not a kubeOP tenant namespace kubeOP knows of yet`,
      fix: 'retry in a few seconds (kubeOP may not have seen a brand-new namespace yet); if it persists, check that the namespace carries the labels paas.kubeop.io/tenant, paas.kubeop.io/project and app.kubernetes.io/managed-by=kubeop',
    };
  }
  const tenant = ctx.view.tenant(ns.tenant);
  if (!tenant) {
    return {
      rule: 'tenancy-unknown',
      message: `namespace ${ns.namespace} belongs to tenant ${ns.tenant}, which does not exist`,
      fix: `create Tenant ${ns.tenant}, or use a namespace of an existing tenant`,
    };
  }
  return { ns, tenant };
}

export function isViolation(v: TenantOfRequest | Violation): v is Violation {
  return 'rule' in v;
}
