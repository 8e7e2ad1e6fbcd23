import { describe, expect, it } from 'vitest';
import { ACTIONS, atTheDoor, decide, mayGrant } from './policy.ts';
import type { Principal } from './principal.ts';

const metering: Principal = { actor: 'token:m', role: 'metering' };

describe('the metering role', () => {
  it('may send usage and nothing else, and is refused with 403 (nothing is hidden from it)', () => {
    for (const action of ACTIONS)
      for (const target of [{}, { tenant: 'acme' }, { tenant: 'acme', project: 'web' }])
        expect(decide(metering, action, target), action).toBe(
          action === 'usage.ingest' ? 'allow' : 'forbidden',
        );
  });

  it('is refused at the door on every route but usage ingestion, and on routes without an action', () => {
    for (const action of ACTIONS)
      expect(atTheDoor(metering, action)).toBe(action === 'usage.ingest' ? 'pass' : 'forbidden');
    expect(atTheDoor(metering, undefined)).toBe('forbidden');
    expect(atTheDoor({ actor: 'a', role: 'platform-admin' }, undefined)).toBe('pass');
    expect(
      atTheDoor({ actor: 'v', role: 'project-viewer', tenant: 'a', project: 'w' }, 'tenant.create'),
    ).toBe('pass');
  });

  it('is granted by a platform-admin only', () => {
    expect(mayGrant({ actor: 'a', role: 'platform-admin' }, { role: 'metering' })).toBe(true);
    expect(
      mayGrant({ actor: 't', role: 'tenant-admin', tenant: 'acme' }, { role: 'metering', tenant: 'acme' }),
    ).toBe(false);
    expect(mayGrant({ actor: 't', role: 'tenant-admin', tenant: 'acme' }, { role: 'metering' })).toBe(false);
    expect(mayGrant(metering, { role: 'metering' })).toBe(false);
  });
});
