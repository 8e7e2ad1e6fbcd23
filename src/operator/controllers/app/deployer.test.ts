import { describe, expect, it } from 'vitest';
import { KubeApiError } from '../../../kube/client.ts';
import type { KubeObject } from '../../../schemas/kube-object.ts';
import { deployerOf, refusal } from './deployer.ts';

const cm: KubeObject = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', namespace: 'ns' } };
const apiError = (code: number, message: string) =>
  new KubeApiError(code, 'x', `PATCH /api/v1/namespaces/ns/configmaps/c: ${code} ${message}`);

describe('refusals of a delivered object', () => {
  it('impersonates the project deployer ServiceAccount', () => {
    expect(deployerOf('acme-web-1')).toEqual({ user: 'system:serviceaccount:acme-web-1:kubeop-deployer' });
  });

  it('an RBAC or admission denial is ForbiddenObject, with the server message and without the request line', () => {
    expect(refusal(apiError(403, 'configmaps "c" is forbidden: User "u" cannot patch'), cm)).toEqual({
      reason: 'ForbiddenObject',
      message: 'v1 ConfigMap/c was refused: configmaps "c" is forbidden: User "u" cannot patch',
    });
  });

  it('a full quota is QuotaExceeded', () => {
    expect(refusal(apiError(403, 'exceeded quota: kubeop-quota, requested: pods=1'), cm)?.reason).toBe(
      'QuotaExceeded',
    );
  });

  it('a schema error is InvalidManifests, including the typed-patch 500 of server-side apply', () => {
    expect(refusal(apiError(422, 'spec.x: Invalid value'), cm)?.reason).toBe('InvalidManifests');
    expect(
      refusal(apiError(500, 'failed to create typed patch object: .spec.replicas: expected numeric'), cm)
        ?.reason,
    ).toBe('InvalidManifests');
  });

  it('anything else is not a refusal (retried)', () => {
    expect(refusal(apiError(500, 'etcdserver: request timed out'), cm)).toBeUndefined();
    expect(refusal(new Error('socket hang up'), cm)).toBeUndefined();
  });
});
