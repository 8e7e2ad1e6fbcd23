import { describe, expect, it } from 'vitest';
import { allowed, mayGrant, type Principal, type Target } from './principal.ts';

const admin: Principal = { actor: 'a', role: 'platform-admin' };
const tenantA: Principal = { actor: 't', role: 'tenant-admin', tenant: 'a' };
const pAdmin: Principal = { actor: 'p', role: 'project-admin', tenant: 'a', project: 'web' };
const editor: Principal = { actor: 'e', role: 'project-editor', tenant: 'a', project: 'web' };
const viewer: Principal = { actor: 'v', role: 'project-viewer', tenant: 'a', project: 'web' };

const tenantTarget: Target = { kind: 'tenant', tenant: 'a' };
const projectTarget: Target = { kind: 'project', tenant: 'a', project: 'web' };
const appTarget: Target = { kind: 'app', tenant: 'a', project: 'web' };
const otherTenant: Target = { kind: 'project', tenant: 'b', project: 'web' };
const otherProject: Target = { kind: 'app', tenant: 'a', project: 'api' };

describe('allowed', () => {
  it.each([
    [admin, 'write', { kind: 'platform' }, true],
    [tenantA, 'read', { kind: 'platform' }, false],
    [tenantA, 'write', tenantTarget, true],
    [tenantA, 'write', appTarget, true],
    [tenantA, 'read', otherTenant, false],
    [pAdmin, 'read', tenantTarget, false],
    [pAdmin, 'write', projectTarget, true],
    [pAdmin, 'write', otherProject, false],
    [editor, 'write', appTarget, true],
    [editor, 'write', projectTarget, false],
    [editor, 'read', projectTarget, true],
    [viewer, 'read', appTarget, true],
    [viewer, 'write', appTarget, false],
    [viewer, 'read', otherTenant, false],
  ] as Array<[Principal, 'read' | 'write', Target, boolean]>)(
    '%o %s %o → %s',
    (p, action, target, expected) => {
      expect(allowed(p, action, target)).toBe(expected);
    },
  );
});

describe('mayGrant', () => {
  it('never grants more than the granter holds', () => {
    expect(mayGrant(tenantA, 'platform-admin', undefined, undefined)).toBe(false);
    expect(mayGrant(tenantA, 'tenant-admin', 'a', undefined)).toBe(true);
    expect(mayGrant(tenantA, 'tenant-admin', 'b', undefined)).toBe(false);
    expect(mayGrant(pAdmin, 'tenant-admin', 'a', undefined)).toBe(false);
    expect(mayGrant(pAdmin, 'project-viewer', 'a', 'web')).toBe(true);
    expect(mayGrant(pAdmin, 'project-viewer', 'a', 'api')).toBe(false);
    expect(mayGrant(editor, 'project-viewer', 'a', 'web')).toBe(false);
    expect(mayGrant(admin, 'platform-admin', undefined, undefined)).toBe(true);
  });
});
