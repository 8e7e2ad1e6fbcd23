import type { UserInfo } from './review.ts';

/**
 * Who may change what kubeOP manages (its labels on namespaces, the quotas, limit ranges, network
 * policies, RBAC and deployer account in tenant namespaces, and Projects of any tenant):
 *
 * - the operator, recognised by its username (`KUBEOP_OPERATOR_USERNAME`, by default its
 *   ServiceAccount `system:serviceaccount:kubeop-system:kubeop`);
 * - members of `system:masters` (cluster administrators, whom no webhook can truly stop anyway);
 * - the control plane: `system:kube-controller-manager`, `system:apiserver` and every ServiceAccount
 *   of `kube-system` (the namespace, garbage-collector and quota controllers run as those), so that
 *   deleting a namespace or collecting garbage never waits for kubeOP.
 *
 * Everybody else — tenant users, and also platform users who are not in this list — is a "tenant"
 * for these rules. Rules that depend on the tenant's policy (registries, service types, hostnames)
 * apply to everyone, trusted or not: they are about the namespace, not the requester.
 */
export interface TrustedIdentities {
  operatorUsername: string;
  /**
   * The manager's username (`KUBEOP_MANAGER_USERNAME`). Trusted for one thing only: the
   * `kubeop-member-*` ServiceAccounts and RoleBindings it creates for member kubeconfigs.
   */
  managerUsername?: string;
}

/** Names the manager gives the objects behind member kubeconfigs (src/manager/clusters/member-access.ts). */
export const MEMBER_OBJECT_PREFIX = 'kubeop-member-';

const CONTROL_PLANE_USERS = ['system:kube-controller-manager', 'system:apiserver'];
const KUBE_SYSTEM_SA_PREFIX = 'system:serviceaccount:kube-system:';
const MASTERS = 'system:masters';

export function isTrusted(user: UserInfo | undefined, trusted: TrustedIdentities): boolean {
  const name = typeof user?.username === 'string' ? user.username : '';
  const groups = Array.isArray(user?.groups) ? user.groups : [];
  return (
    name === trusted.operatorUsername ||
    CONTROL_PLANE_USERS.includes(name) ||
    name.startsWith(KUBE_SYSTEM_SA_PREFIX) ||
    groups.includes(MASTERS)
  );
}

const celString = (s: string) => `'${s.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`;

/**
 * The same test as a CEL expression for a webhook's `matchConditions`: true for requests the webhook
 * should see (requesters who are not trusted). The API server then never calls the webhook for the
 * operator or the control plane, so those keep working even while admission is down; the handler
 * still checks `isTrusted` itself, so the rule holds without the condition too.
 */
export function untrustedRequestCel(trusted: TrustedIdentities): string {
  const u = 'request.userInfo.username';
  return [
    `!(has(request.userInfo.groups) && ${celString(MASTERS)} in request.userInfo.groups)`,
    `${u} != ${celString(trusted.operatorUsername)}`,
    ...CONTROL_PLANE_USERS.map((name) => `${u} != ${celString(name)}`),
    `!${u}.startsWith(${celString(KUBE_SYSTEM_SA_PREFIX)})`,
  ].join(' && ');
}
