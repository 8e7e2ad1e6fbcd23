/**
 * Who is calling and what they may do. Roles, from broadest to narrowest:
 * - platform-admin: everything;
 * - tenant-admin: one tenant, its projects and apps, and tokens within the tenant;
 * - project-admin: one project (members, apps, tokens of the project);
 * - project-editor: apps of one project;
 * - project-viewer: read one project and its apps;
 * - metering: platform-wide, but only sends usage events (the operator's metering token).
 * Decisions are pure functions of the principal and the target, so a table test can cover them all.
 */
export type Role =
  'platform-admin' | 'tenant-admin' | 'project-admin' | 'project-editor' | 'project-viewer' | 'metering';

export const ROLES: readonly Role[] = [
  'platform-admin',
  'tenant-admin',
  'project-admin',
  'project-editor',
  'project-viewer',
  'metering',
];

export interface Principal {
  /** Audit name: `token:<id>` or `oidc:<subject>`. */
  actor: string;
  tokenId?: string;
  role: Role;
  tenant?: string;
  project?: string;
}

export type Action = 'read' | 'write';

/** The object a request touches: a tenant, or something inside one project. */
export type Target =
  | { kind: 'platform' }
  | { kind: 'tenant'; tenant: string }
  | { kind: 'project'; tenant: string; project: string }
  | { kind: 'app'; tenant: string; project: string };

export function allowed(p: Principal, action: Action, target: Target): boolean {
  if (p.role === 'platform-admin') return true;
  if (p.role === 'metering' || target.kind === 'platform') return false;
  if (p.tenant !== target.tenant) return false;
  if (p.role === 'tenant-admin') return true;
  // Project roles never act on the tenant itself.
  if (target.kind === 'tenant') return false;
  if (p.project !== target.project) return false;
  switch (p.role) {
    case 'project-admin':
      return true;
    case 'project-editor':
      return action === 'read' || target.kind === 'app';
    case 'project-viewer':
      return action === 'read';
  }
}

/** Whether `p` may hand out a token with `role` on the given scope (never more than it holds). */
export function mayGrant(
  p: Principal,
  role: Role,
  tenant: string | undefined,
  project: string | undefined,
): boolean {
  if (p.role === 'platform-admin') return true;
  if (role === 'platform-admin' || role === 'metering' || tenant !== p.tenant) return false;
  if (p.role === 'tenant-admin') return true;
  if (p.role === 'project-admin') return role !== 'tenant-admin' && project === p.project;
  return false;
}
