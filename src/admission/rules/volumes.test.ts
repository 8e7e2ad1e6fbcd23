import { describe, expect, it } from 'vitest';
import { request, ruleContext } from '../../../test/support/admission-fixtures.ts';
import { validateVolumeClaim } from './volumes.ts';

const pvc = (spec: Record<string, unknown>) => ({
  apiVersion: 'v1',
  kind: 'PersistentVolumeClaim',
  metadata: { name: 'data' },
  spec,
});

describe('claims do not pick an existing volume', () => {
  it("refuses a tenant's claim that names a PersistentVolume", () => {
    const d = validateVolumeClaim(
      request('PersistentVolumeClaim', pvc({ volumeName: 'pv-of-someone' })),
      ruleContext(),
    );
    expect(d.allowed || d.violations[0]).toEqual({
      rule: 'pvc-volume-name',
      message:
        "spec.volumeName binds the claim to the existing PersistentVolume pv-of-someone, which may still hold another tenant's data",
      fix: 'leave out spec.volumeName and let the StorageClass provision a new volume',
    });
  });

  it('allows provisioned claims, and platform admins binding by name', () => {
    expect(
      validateVolumeClaim(request('PersistentVolumeClaim', pvc({ storageClassName: 'fast' })), ruleContext())
        .allowed,
    ).toBe(true);
    const admin = request('PersistentVolumeClaim', pvc({ volumeName: 'pv' }), {
      userInfo: { username: 'a', groups: ['system:masters'] },
    });
    expect(validateVolumeClaim(admin, ruleContext()).allowed).toBe(true);
  });
});
