import { describe, expect, it } from 'vitest';
import { allowed, mayGrant, type Principal } from './principal.ts';

const metering: Principal = { actor: 'token:m', role: 'metering' };

describe('the metering role', () => {
  it('may neither read nor write any tenant, project or app', () => {
    for (const action of ['read', 'write'] as const)
      for (const target of [
        { kind: 'platform' as const },
        { kind: 'tenant' as const, tenant: 'acme' },
        { kind: 'project' as const, tenant: 'acme', project: 'web' },
        { kind: 'app' as const, tenant: 'acme', project: 'web' },
      ])
        expect(allowed(metering, action, target)).toBe(false);
  });

  it('is granted by a platform-admin only', () => {
    expect(mayGrant({ actor: 'a', role: 'platform-admin' }, 'metering', undefined, undefined)).toBe(true);
    expect(
      mayGrant({ actor: 't', role: 'tenant-admin', tenant: 'acme' }, 'metering', 'acme', undefined),
    ).toBe(false);
    expect(
      mayGrant({ actor: 't', role: 'tenant-admin', tenant: 'acme' }, 'metering', undefined, undefined),
    ).toBe(false);
    expect(mayGrant(metering, 'metering', undefined, undefined)).toBe(false);
  });
});
