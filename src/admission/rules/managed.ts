import { LABEL_MANAGED_BY, MANAGED_BY } from '../../domain/naming.ts';
import { isTrusted, MEMBER_OBJECT_PREFIX } from '../identity.ts';
import { allow, deny, labelsOf, nameOf, type AdmissionRequest, type Decision } from '../review.ts';
import type { RuleContext } from './context.ts';

/** How a tenant gets what it wanted without touching kubeOP's object, by kind. */
const alternatives: Record<string, string> = {
  ResourceQuota: 'quotas follow the Project: ask a platform admin to change spec.quota of the Project',
  LimitRange:
    'container defaults follow the Project: ask a platform admin to change spec.limits of the Project',
  NetworkPolicy:
    'create a NetworkPolicy of your own next to it: policies add up, so yours can allow the traffic you need',
  Role: 'create a Role of your own (with another name) for the permissions you need',
  RoleBinding:
    'create a RoleBinding of your own (with another name); project membership itself is spec.members of the Project',
  ServiceAccount: 'create a ServiceAccount of your own (with another name)',
};

const RESERVED_PREFIX = 'kubeop-';

/** The manager writing the ServiceAccount or RoleBinding behind a member kubeconfig, and nothing else. */
function isManagerMemberObject(req: AdmissionRequest, ctx: RuleContext): boolean {
  const manager = ctx.trusted.managerUsername;
  if (!manager || req.userInfo.username !== manager) return false;
  if (req.kind.kind !== 'ServiceAccount' && req.kind.kind !== 'RoleBinding') return false;
  const name = req.name ?? nameOf(req.object) ?? nameOf(req.oldObject) ?? '';
  return name.startsWith(MEMBER_OBJECT_PREFIX) && !isManaged(req.object) && !isManaged(req.oldObject);
}

function isManaged(obj: unknown): boolean {
  return labelsOf(obj)[LABEL_MANAGED_BY] === MANAGED_BY;
}

/**
 * Rule `managed-object`: in tenant namespaces, the ResourceQuota, LimitRange, NetworkPolicies,
 * Roles, RoleBindings and ServiceAccount kubeOP manages (label app.kubernetes.io/managed-by=kubeop)
 * cannot be changed or deleted, and tenants cannot create objects that look managed (the label, or a
 * name starting with `kubeop-`). Trusted identities (identity.ts) pass: the operator writes these
 * objects and the control plane deletes them with the namespace.
 *
 * RBAC already keeps tenants off quotas and limit ranges; project admins may manage Roles,
 * RoleBindings and NetworkPolicies, and editors ServiceAccounts — this rule is what keeps them off
 * kubeOP's own ones (the operator would restore them, but not before they were used).
 */
export function validateManagedObject(req: AdmissionRequest, ctx: RuleContext): Decision {
  if (isTrusted(req.userInfo, ctx.trusted)) return allow();
  const kind = req.kind.kind;
  if (isManagerMemberObject(req, ctx)) return allow();
  const alternative = alternatives[kind] ?? 'leave kubeOP-managed objects alone';
  const name = req.name ?? nameOf(req.object) ?? nameOf(req.oldObject) ?? '';
  if ((req.operation === 'UPDATE' || req.operation === 'DELETE') && isManaged(req.oldObject)) {
    return deny({
      rule: 'managed-object',
      message: `${kind} ${name} is managed by kubeOP; tenants cannot ${req.operation === 'DELETE' ? 'delete' : 'change'} it`,
      fix: alternative,
    });
  }
  if (req.operation === 'CREATE' || req.operation === 'UPDATE') {
    if (isManaged(req.object) || (req.operation === 'CREATE' && name.startsWith(RESERVED_PREFIX))) {
      return deny({
        rule: 'managed-object',
        message: `the label ${LABEL_MANAGED_BY}=${MANAGED_BY} and names starting with "${RESERVED_PREFIX}" are reserved for objects kubeOP manages`,
        fix: `give the ${kind} a name that does not start with "${RESERVED_PREFIX}" and leave out that label`,
      });
    }
  }
  return allow();
}
