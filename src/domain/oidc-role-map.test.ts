import { describe, expect, it } from 'vitest';
import { grantFor, parseRoleMap } from './oidc-role-map.ts';

describe('parseRoleMap', () => {
  it('reads the list spelling, every role with its scope', () => {
    expect(
      parseRoleMap(
        'ops=platform-admin, acme-ops=tenant-admin:acme,acme-web=project-editor:acme/web,view=project-viewer:b/api',
      ),
    ).toEqual([
      { group: 'ops', role: 'platform-admin' },
      { group: 'acme-ops', role: 'tenant-admin', tenant: 'acme' },
      { group: 'acme-web', role: 'project-editor', tenant: 'acme', project: 'web' },
      { group: 'view', role: 'project-viewer', tenant: 'b', project: 'api' },
    ]);
  });

  it('reads the JSON spelling, where group names may hold commas and equals signs', () => {
    expect(parseRoleMap('{"cn=ops,dc=example":"platform-admin","acme":"project-admin:acme/web"}')).toEqual([
      { group: 'cn=ops,dc=example', role: 'platform-admin' },
      { group: 'acme', role: 'project-admin', tenant: 'acme', project: 'web' },
    ]);
  });

  it('is empty for an empty value', () => {
    expect(parseRoleMap('  ')).toEqual([]);
  });

  it.each([
    ['ops', /expected group=role/],
    ['ops=root', /unknown role "root"/],
    ['ops=platform-admin:acme', /platform-admin takes no tenant/],
    ['ops=tenant-admin', /tenant-admin needs exactly a tenant/],
    ['ops=tenant-admin:acme/web', /tenant-admin needs exactly a tenant/],
    ['ops=project-viewer:acme', /project-viewer needs a tenant and a project/],
    ['ops=project-viewer:Acme/web', /not tenant or tenant\/project/],
    ['ops=project-viewer:a/b/c', /not tenant or tenant\/project/],
    ['ops=tenant-admin:a:b', /expected role\[:tenant/],
    ['=platform-admin', /empty group name/],
    ['{"ops": 1}', /expected a string/],
    ['{"ops": ', /not valid JSON/],
    ['{}x', /not valid JSON/],
  ])('refuses %s with a one-line reason', (text, reason) => {
    let message = '';
    try {
      parseRoleMap(text);
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(reason);
    expect(message).not.toContain('\n');
  });
});

describe('grantFor', () => {
  const map = parseRoleMap('ops=platform-admin,acme=tenant-admin:acme,web=project-viewer:acme/web');

  it('takes the first entry the caller is a member of', () => {
    expect(grantFor(map, ['web', 'acme'])).toMatchObject({ role: 'tenant-admin' });
    expect(grantFor(map, ['web'])).toMatchObject({ role: 'project-viewer', project: 'web' });
  });

  it('grants nothing to a caller in no mapped group', () => {
    expect(grantFor(map, ['other'])).toBeUndefined();
    expect(grantFor(map, [])).toBeUndefined();
  });
});
