import { describe, expect, it } from 'vitest';
import { LABEL_PROJECT } from '../../domain/naming.ts';
import { maxProjectRole, memberServiceAccountName, renderMemberAccess, withinRole } from './member-access.ts';

describe('member access', () => {
  it('binds one ServiceAccount per caller and role to the project Role of that name', () => {
    const [sa, binding] = renderMemberAccess('acme-web-1234', 'token:abc', 'edit');
    const name = memberServiceAccountName('token:abc', 'edit');
    expect(name).toMatch(/^kubeop-member-edit-[0-9a-f]{12}$/);
    expect(memberServiceAccountName('token:abc', 'edit')).toBe(name);
    expect(memberServiceAccountName('token:other', 'edit')).not.toBe(name);
    expect(sa).toMatchObject({ kind: 'ServiceAccount', metadata: { name, namespace: 'acme-web-1234' } });
    expect(binding).toMatchObject({
      kind: 'RoleBinding',
      roleRef: { kind: 'Role', name: 'kubeop-edit' },
      subjects: [{ kind: 'ServiceAccount', name, namespace: 'acme-web-1234' }],
    });
  });

  it('carries no project label, so the project reconciler does not prune it', () => {
    for (const obj of renderMemberAccess('ns', 'token:abc', 'view'))
      expect(obj.metadata.labels?.[LABEL_PROJECT]).toBeUndefined();
  });

  it('never grants more than the caller’s API role', () => {
    expect(maxProjectRole('project-viewer')).toBe('view');
    expect(maxProjectRole('project-editor')).toBe('edit');
    expect(maxProjectRole('tenant-admin')).toBe('admin');
    expect(withinRole('view', 'edit')).toBe(true);
    expect(withinRole('admin', 'edit')).toBe(false);
  });
});
