import type { Principal, Role } from './principal.ts';

/**
 * The one authorization policy of the manager: which role may do which action, at which scope.
 * Every decision in routes and services goes through the functions below; nothing else compares
 * roles. docs/security/authentication.md renders its roles table from this file (`npm run gen`),
 * and test/integration/manager/policy.test.ts holds every operation of the OpenAPI document to it.
 *
 * Contract of a decision:
 * - a principal acts only within its own scope: a platform role anywhere, a tenant-admin inside
 *   its tenant, a project role inside its project;
 * - `platform` actions are not about one tenant; a confined principal granted one gets only its
 *   own part (lists are filtered by `confinement`);
 * - a refusal does not reveal what exists: a caller who may not `revealedBy` the target gets the
 *   same 404 as for a missing object, one who may gets 403. Nothing is hidden from a platform
 *   role, so its refusals are always 403 and are decided before any handler runs (`atTheDoor`).
 */
export type Scope = 'platform' | 'tenant' | 'project';

/** The part of a project's namespace a member kubeconfig may reach (the project Roles). */
export type NamespaceRole = 'admin' | 'edit' | 'view';

export interface RoleRule {
  scope: Scope;
  /** The most a member kubeconfig of this role may carry. */
  namespace: NamespaceRole;
  summary: string;
}

export const ROLE_RULES: Readonly<Record<Role, RoleRule>> = {
  'platform-admin': {
    scope: 'platform',
    namespace: 'admin',
    summary: 'everything: tenants, clusters, plans, invoices, every token, the whole audit log',
  },
  'tenant-admin': {
    scope: 'tenant',
    namespace: 'admin',
    summary: 'its projects, apps, members and tokens, its invoices, and its part of the audit log',
  },
  'project-admin': {
    scope: 'project',
    namespace: 'admin',
    summary: 'the project (members, quota…), its apps and tokens',
  },
  'project-editor': { scope: 'project', namespace: 'edit', summary: "the project's apps; reads the project" },
  'project-viewer': { scope: 'project', namespace: 'view', summary: 'reads the project and its apps' },
  metering: {
    scope: 'platform',
    namespace: 'view',
    summary: "only sends usage events (the operator's usage)",
  },
};

const ADMIN = ['platform-admin'] as const;
const TENANT_ADMINS = ['platform-admin', 'tenant-admin'] as const;
const PROJECT_ADMINS = [...TENANT_ADMINS, 'project-admin'] as const;
const EDITORS = [...PROJECT_ADMINS, 'project-editor'] as const;
const READERS = [...EDITORS, 'project-viewer'] as const;

export interface ActionRule {
  scope: Scope;
  roles: readonly Role[];
  /** What the action does, for refusals: "<doing> needs a … token". */
  doing: string;
  /** A caller refused this action but allowed `revealedBy` (an action) on the target gets 403, not 404. */
  revealedBy?: string;
}

const rule = (scope: Scope, roles: readonly Role[], doing: string, revealedBy?: string): ActionRule => ({
  scope,
  roles,
  doing,
  ...(revealedBy ? { revealedBy } : {}),
});

export const POLICY = {
  'tenant.list': rule('platform', READERS, 'listing tenants'),
  'tenant.create': rule('platform', ADMIN, 'creating a tenant'),
  'tenant.read': rule('tenant', TENANT_ADMINS, 'reading a tenant'),
  'tenant.update': rule('tenant', ADMIN, 'changing a tenant', 'tenant.read'),
  'tenant.delete': rule('tenant', ADMIN, 'deleting a tenant', 'tenant.read'),
  'project.list': rule('tenant', READERS, 'listing projects'),
  'project.create': rule('tenant', TENANT_ADMINS, 'creating a project', 'tenant.read'),
  'project.read': rule('project', READERS, 'reading a project'),
  'project.update': rule('project', PROJECT_ADMINS, 'changing a project', 'project.read'),
  'project.delete': rule('project', PROJECT_ADMINS, 'deleting a project', 'project.read'),
  'project.kubeconfig': rule('project', READERS, 'getting a member kubeconfig'),
  'app.read': rule('project', READERS, 'reading apps'),
  'app.write': rule('project', EDITORS, 'changing apps', 'project.read'),
  'token.create': rule('platform', PROJECT_ADMINS, 'creating tokens'),
  'token.list': rule('platform', PROJECT_ADMINS, 'listing tokens'),
  'token.revoke': rule('platform', PROJECT_ADMINS, 'revoking tokens'),
  'audit.read': rule('platform', TENANT_ADMINS, 'reading the audit log'),
  'cluster.read': rule('platform', ADMIN, 'reading clusters'),
  'cluster.manage': rule('platform', ADMIN, 'registering, checking or deregistering a cluster'),
  'usage.ingest': rule('platform', ['platform-admin', 'metering'], 'sending usage'),
  'usage.void': rule('platform', ADMIN, 'voiding usage'),
  'plan.read': rule('platform', ADMIN, 'reading plans'),
  'plan.manage': rule('platform', ADMIN, 'changing plans'),
  'plan.assign': rule('platform', ADMIN, 'assigning a plan'),
  'plan.assignments': rule('tenant', TENANT_ADMINS, "reading a tenant's plan assignments"),
  'invoice.list': rule('platform', TENANT_ADMINS, 'listing invoices'),
  'invoice.read': rule('tenant', TENANT_ADMINS, 'reading an invoice'),
  'invoice.manage': rule('platform', ADMIN, 'drafting, finalizing or deleting invoices'),
  'analytics.read': rule('platform', READERS, 'reading cost analytics'),
} as const satisfies Record<string, ActionRule>;

export type ActionName = keyof typeof POLICY;

export const isAction = (name: string): name is ActionName => Object.hasOwn(POLICY, name);

export const ACTIONS: readonly ActionName[] = Object.keys(POLICY).filter(isAction);

/** What an action is done to: nothing in particular, a tenant, or one project of a tenant. */
export type Target = { tenant?: undefined; project?: undefined } | { tenant: string; project?: string };

export type Decision = 'allow' | 'forbidden' | 'hidden';

export const grants = (role: Role, action: ActionName): boolean =>
  (POLICY[action] as ActionRule).roles.includes(role);

/** Whether the target lies inside the principal's own scope. */
export function within(p: Principal, target: Target): boolean {
  const scope = ROLE_RULES[p.role].scope;
  if (scope === 'platform') return true;
  if (target.tenant === undefined || target.tenant !== p.tenant) return false;
  return scope === 'tenant' || (target.project !== undefined && target.project === p.project);
}

export function decide(p: Principal, action: ActionName, target: Target = {}): Decision {
  const r: ActionRule = POLICY[action];
  if (r.scope === 'platform') return grants(p.role, action) ? 'allow' : 'forbidden';
  if (within(p, target) && grants(p.role, action)) return 'allow';
  if (ROLE_RULES[p.role].scope === 'platform') return 'forbidden';
  const revealed =
    r.revealedBy !== undefined && isAction(r.revealedBy) && decide(p, r.revealedBy, target) === 'allow';
  return revealed ? 'forbidden' : 'hidden';
}

/** The sentence a 403 carries: what the action does and which roles may do it. */
export function refusal(action: ActionName): string {
  const r: ActionRule = POLICY[action];
  const roles = r.roles.length > 1 ? `${r.roles.slice(0, -1).join(', ')} or ${r.roles.at(-1)}` : r.roles[0];
  return `${r.doing} needs a ${roles} token`;
}

/**
 * The part of the platform a principal is confined to: nothing, its tenant, or its project. Fails
 * closed: a confined principal missing its tenant or project gets the empty name, which no tenant
 * or project has.
 */
export function confinement(p: Principal): Target {
  const scope = ROLE_RULES[p.role].scope;
  if (scope === 'platform') return {};
  const tenant = p.tenant ?? '';
  return scope === 'project' ? { tenant, project: p.project ?? '' } : { tenant };
}

/**
 * Where a listing inside `tenant` is asked: the tenant, or, for a principal confined to one
 * project of that tenant, that project (the list is then filtered to what it may read).
 */
export function listTarget(p: Principal, tenant: string): Target {
  const c = confinement(p);
  return c.tenant === tenant && c.project !== undefined ? { tenant, project: c.project } : { tenant };
}

/** The scope a role's token is bound to: which of tenant and project it must name. */
export const scopeOfRole = (role: Role): Scope => ROLE_RULES[role].scope;

/**
 * Whether `p` may hand out (or revoke) a token of `role` on the given tenant and project: it
 * holds token.create and the token's scope lies inside its own, so nobody grants more than it
 * holds (a platform-wide token only from a platform role).
 */
export function mayGrant(p: Principal, token: { role: Role; tenant?: string; project?: string }): boolean {
  if (!grants(p.role, 'token.create')) return false;
  const scope = scopeOfRole(token.role);
  if (scope === 'platform') return ROLE_RULES[p.role].scope === 'platform';
  if (token.tenant === undefined) return false;
  return within(
    p,
    scope === 'project' ? { tenant: token.tenant, project: token.project ?? '' } : { tenant: token.tenant },
  );
}

/**
 * Refused before any handler: a principal with platform scope is decided by its role alone,
 * since nothing is hidden from it. `action` is the route's declared action (none on Fastify's
 * not-found handler, where only a role granted every action passes).
 */
export function atTheDoor(p: Principal, action: ActionName | undefined): 'pass' | 'forbidden' {
  if (ROLE_RULES[p.role].scope !== 'platform') return 'pass';
  const granted = action ? grants(p.role, action) : ACTIONS.every((a) => grants(p.role, a));
  return granted ? 'pass' : 'forbidden';
}
