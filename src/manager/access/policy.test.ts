import { describe, expect, it } from 'vitest';
import {
  ACTIONS,
  POLICY,
  confinement,
  decide,
  grants,
  isAction,
  listTarget,
  mayGrant,
  refusal,
  type ActionName,
  type Decision,
  type Target,
} from './policy.ts';
import { ROLES, type Principal } from './principal.ts';

const admin: Principal = { actor: 'a', role: 'platform-admin' };
const tenantA: Principal = { actor: 't', role: 'tenant-admin', tenant: 'a' };
const pAdmin: Principal = { actor: 'p', role: 'project-admin', tenant: 'a', project: 'web' };
const editor: Principal = { actor: 'e', role: 'project-editor', tenant: 'a', project: 'web' };
const viewer: Principal = { actor: 'v', role: 'project-viewer', tenant: 'a', project: 'web' };

const tenant: Target = { tenant: 'a' };
const project: Target = { tenant: 'a', project: 'web' };
const otherTenant: Target = { tenant: 'b', project: 'web' };
const otherProject: Target = { tenant: 'a', project: 'api' };

describe('decide', () => {
  it.each([
    [admin, 'tenant.create', {}, 'allow'],
    [admin, 'tenant.delete', { tenant: 'b' }, 'allow'],
    [tenantA, 'tenant.create', {}, 'forbidden'],
    [tenantA, 'tenant.update', tenant, 'forbidden'],
    [tenantA, 'project.create', tenant, 'allow'],
    [tenantA, 'app.write', project, 'allow'],
    [tenantA, 'project.read', otherTenant, 'hidden'],
    [pAdmin, 'tenant.read', tenant, 'hidden'],
    [pAdmin, 'project.create', tenant, 'hidden'],
    [pAdmin, 'project.update', project, 'allow'],
    [pAdmin, 'app.write', otherProject, 'hidden'],
    [editor, 'app.write', project, 'allow'],
    [editor, 'project.update', project, 'forbidden'],
    [editor, 'project.delete', project, 'forbidden'],
    [editor, 'project.read', project, 'allow'],
    [viewer, 'app.read', project, 'allow'],
    [viewer, 'app.write', project, 'forbidden'],
    [viewer, 'project.read', otherTenant, 'hidden'],
    [viewer, 'token.list', {}, 'forbidden'],
    [viewer, 'analytics.read', {}, 'allow'],
  ] as Array<[Principal, ActionName, Target, Decision]>)('%o %s %o → %s', (p, action, target, expected) => {
    expect(decide(p, action, target)).toBe(expected);
  });

  it('lets a platform-admin do every action, and hides nothing from it', () => {
    for (const action of ACTIONS) expect(decide(admin, action, otherTenant), action).toBe('allow');
  });

  it('names only declared actions as revealing, and says who may in every refusal', () => {
    for (const action of ACTIONS) {
      const revealedBy = (POLICY[action] as { revealedBy?: string }).revealedBy;
      if (revealedBy !== undefined) expect(isAction(revealedBy), `${action} → ${revealedBy}`).toBe(true);
      expect(refusal(action)).toContain('platform-admin');
    }
    expect(refusal('tenant.create')).toBe('creating a tenant needs a platform-admin token');
  });

  it('lets no role act outside its own scope', () => {
    for (const role of ROLES)
      for (const action of ACTIONS)
        if (POLICY[action].scope !== 'platform' && role !== 'platform-admin' && role !== 'metering')
          expect(decide({ actor: 'x', role, tenant: 'a', project: 'web' }, action, otherTenant)).toBe(
            'hidden',
          );
  });
});

describe('confinement and listing', () => {
  it('confines a tenant-admin to its tenant and a project role to its project', () => {
    expect(confinement(admin)).toEqual({});
    expect(confinement(tenantA)).toEqual({ tenant: 'a' });
    expect(confinement(viewer)).toEqual({ tenant: 'a', project: 'web' });
    expect(confinement({ actor: 'x', role: 'tenant-admin' })).toEqual({ tenant: '' });
  });

  it("lists a tenant's projects within the caller's project", () => {
    expect(listTarget(viewer, 'a')).toEqual(project);
    expect(listTarget(viewer, 'b')).toEqual({ tenant: 'b' });
    expect(listTarget(tenantA, 'a')).toEqual(tenant);
    expect(decide(viewer, 'project.list', listTarget(viewer, 'a'))).toBe('allow');
    expect(decide(viewer, 'project.list', listTarget(viewer, 'b'))).toBe('hidden');
  });
});

describe('mayGrant', () => {
  it('never grants more than the granter holds', () => {
    expect(mayGrant(tenantA, { role: 'platform-admin' })).toBe(false);
    expect(mayGrant(tenantA, { role: 'tenant-admin', tenant: 'a' })).toBe(true);
    expect(mayGrant(tenantA, { role: 'tenant-admin', tenant: 'b' })).toBe(false);
    expect(mayGrant(pAdmin, { role: 'tenant-admin', tenant: 'a' })).toBe(false);
    expect(mayGrant(pAdmin, { role: 'project-viewer', tenant: 'a', project: 'web' })).toBe(true);
    expect(mayGrant(pAdmin, { role: 'project-viewer', tenant: 'a', project: 'api' })).toBe(false);
    expect(mayGrant(editor, { role: 'project-viewer', tenant: 'a', project: 'web' })).toBe(false);
    expect(mayGrant(admin, { role: 'platform-admin' })).toBe(true);
    expect(grants('project-editor', 'token.create')).toBe(false);
  });
});
