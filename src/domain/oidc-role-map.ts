/**
 * KUBEOP_OIDC_ROLE_MAP: which kubeOP role an identity-provider group grants. Two spellings:
 * - a list `group=role[:tenant[/project]]`, comma-separated:
 *   `kubeop-admins=platform-admin,acme-ops=tenant-admin:acme,acme-web=project-editor:acme/web`;
 * - JSON, for group names with `,` or `=`: `{"kubeop-admins":"platform-admin","acme ops":"tenant-admin:acme"}`.
 * Order matters: a caller in several mapped groups gets the FIRST matching entry, so list broader
 * grants first. Parsing is strict and the error is one line naming the bad entry.
 */
export const ROLE_NAMES = [
  'platform-admin',
  'tenant-admin',
  'project-admin',
  'project-editor',
  'project-viewer',
] as const;
export type RoleName = (typeof ROLE_NAMES)[number];

export interface RoleGrant {
  group: string;
  role: RoleName;
  tenant?: string;
  project?: string;
}

export class RoleMapError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RoleMapError';
  }
}

const label = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const isLabel = (s: string | undefined): s is string => !!s && s.length <= 63 && label.test(s);

function grant(group: string, text: string): RoleGrant {
  const where = `entry for group "${group}"`;
  if (!group) throw new RoleMapError(`an entry has an empty group name`);
  const [role, scope, ...rest] = text.trim().split(':');
  if (rest.length) throw new RoleMapError(`${where}: expected role[:tenant[/project]], got "${text}"`);
  if (!(ROLE_NAMES as readonly string[]).includes(role ?? '')) {
    throw new RoleMapError(`${where}: unknown role "${role}"; expected one of ${ROLE_NAMES.join(', ')}`);
  }
  const r = role as RoleName;
  const [tenant, project, ...more] = scope === undefined ? [] : scope.split('/');
  if (
    more.length ||
    (scope !== undefined && !isLabel(tenant)) ||
    (project !== undefined && !isLabel(project))
  ) {
    throw new RoleMapError(`${where}: "${scope}" is not tenant or tenant/project (DNS labels)`);
  }
  if (r === 'platform-admin' && tenant) throw new RoleMapError(`${where}: platform-admin takes no tenant`);
  if (r === 'tenant-admin' && (!tenant || project)) {
    throw new RoleMapError(`${where}: tenant-admin needs exactly a tenant (tenant-admin:<tenant>)`);
  }
  if (r.startsWith('project-') && !project) {
    throw new RoleMapError(`${where}: ${r} needs a tenant and a project (${r}:<tenant>/<project>)`);
  }
  return { group, role: r, ...(tenant ? { tenant } : {}), ...(project ? { project } : {}) };
}

export function parseRoleMap(text: string): RoleGrant[] {
  const trimmed = text.trim();
  if (!trimmed) return [];
  if (trimmed.startsWith('{')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(trimmed);
    } catch {
      throw new RoleMapError('is not valid JSON; expected {"<group>": "<role>[:tenant[/project]]", …}');
    }
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
      throw new RoleMapError('expected a JSON object {"<group>": "<role>[:tenant[/project]]", …}');
    }
    return Object.entries(parsed).map(([group, v]) => {
      if (typeof v !== 'string') throw new RoleMapError(`entry for group "${group}": expected a string`);
      return grant(group, v);
    });
  }
  return trimmed.split(',').map((entry) => {
    const at = entry.lastIndexOf('=');
    if (at < 0) throw new RoleMapError(`entry "${entry.trim()}": expected group=role[:tenant[/project]]`);
    return grant(entry.slice(0, at).trim(), entry.slice(at + 1));
  });
}

/** The first grant whose group the caller is in, or undefined. */
export function grantFor(map: readonly RoleGrant[], groups: readonly string[]): RoleGrant | undefined {
  const member = new Set(groups);
  return map.find((g) => member.has(g.group));
}
