import { createHash } from 'node:crypto';
import type { KubeClient } from '../../kube/client.ts';
import type { KubeObject } from '../../schemas/kube-object.ts';
import { ROLE_RULES, type NamespaceRole } from '../access/policy.ts';
import type { Role } from '../access/principal.ts';

export type ProjectRole = NamespaceRole;

const RANK: Record<ProjectRole, number> = { view: 0, edit: 1, admin: 2 };

/** The most a principal may get in a project's namespace: its API role, mapped to the project roles. */
export const maxProjectRole = (role: Role): ProjectRole => ROLE_RULES[role].namespace;

export const withinRole = (wanted: ProjectRole, max: ProjectRole) => RANK[wanted] <= RANK[max];

/**
 * The namespaced Roles the operator's project reconciler renders in every project namespace
 * (src/operator/controllers/project/rbac.ts, ROLE_NAMES; the manager may not import the operator).
 */
const ROLE_OF: Record<ProjectRole, string> = {
  admin: 'kubeop-admin',
  edit: 'kubeop-edit',
  view: 'kubeop-view',
};

/**
 * Labels of what the manager creates for members. Deliberately without `paas.kubeop.io/project`: the
 * project reconciler prunes owned kinds carrying that label which it did not render itself.
 */
export const MEMBER_LABELS = {
  'app.kubernetes.io/managed-by': 'kubeop-manager',
  'paas.kubeop.io/member-access': 'true',
};

/** One ServiceAccount per (API identity, role): issuing again reuses it; deleting it revokes every token. */
export function memberServiceAccountName(actor: string, role: ProjectRole): string {
  return `kubeop-member-${role}-${createHash('sha256').update(actor).digest('hex').slice(0, 12)}`;
}

export function renderMemberAccess(namespace: string, actor: string, role: ProjectRole): KubeObject[] {
  const name = memberServiceAccountName(actor, role);
  const metadata = {
    name,
    namespace,
    labels: MEMBER_LABELS,
    annotations: { 'paas.kubeop.io/issued-for': actor },
  };
  return [
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata,
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: ROLE_OF[role] },
      subjects: [{ kind: 'ServiceAccount', name, namespace }],
    },
  ];
}

/**
 * Applies the member's ServiceAccount and RoleBinding, then asks the API server for a token of that
 * ServiceAccount (TokenRequest) that expires after `expirationSeconds`. The token is returned to
 * the caller and never stored or logged.
 */
export async function issueMemberToken(
  client: KubeClient,
  opts: { namespace: string; actor: string; role: ProjectRole; expirationSeconds: number },
): Promise<{ serviceAccount: string; token: string; expiresAt: string }> {
  for (const obj of renderMemberAccess(opts.namespace, opts.actor, opts.role)) await client.apply(obj);
  const serviceAccount = memberServiceAccountName(opts.actor, opts.role);
  const res = await client.request<{ status?: { token?: string; expirationTimestamp?: string } }>(
    'POST',
    `/api/v1/namespaces/${opts.namespace}/serviceaccounts/${serviceAccount}/token`,
    {
      body: {
        apiVersion: 'authentication.k8s.io/v1',
        kind: 'TokenRequest',
        spec: { expirationSeconds: opts.expirationSeconds },
      },
    },
  );
  const token = res?.status?.token;
  if (!token) throw new Error('the API server returned no token for the TokenRequest');
  return {
    serviceAccount,
    token,
    expiresAt:
      res.status?.expirationTimestamp ?? new Date(Date.now() + opts.expirationSeconds * 1000).toISOString(),
  };
}
