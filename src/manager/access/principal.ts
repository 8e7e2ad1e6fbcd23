/**
 * Who is calling and what they may do. Roles, from broadest to narrowest:
 * - platform-admin: everything;
 * - tenant-admin: one tenant, its projects and apps, and tokens within the tenant;
 * - project-admin: one project (members, apps, tokens of the project);
 * - project-editor: apps of one project;
 * - project-viewer: read one project and its apps;
 * - metering: platform-wide, but only sends usage events (the operator's metering token).
 * What each role may do is declared once, in policy.ts; this file only says who is calling.
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
  /** When the credentials stop working (RFC 3339); absent when they never expire. */
  expiresAt?: string;
}
