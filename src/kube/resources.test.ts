import { describe, expect, it } from 'vitest';
import { resourcePath, resourceType } from './resources.ts';

describe('resourcePath', () => {
  it('builds core, group, namespaced and cluster-scoped paths', () => {
    expect(resourcePath(resourceType('v1', 'ConfigMap'), 'team-a')).toBe(
      '/api/v1/namespaces/team-a/configmaps',
    );
    expect(resourcePath(resourceType('v1', 'ConfigMap'))).toBe('/api/v1/configmaps');
    expect(resourcePath(resourceType('v1', 'Namespace'), 'ignored', 'a')).toBe('/api/v1/namespaces/a');
    expect(resourcePath(resourceType('paas.kubeop.io/v1alpha1', 'App'), 'p', 'web')).toBe(
      '/apis/paas.kubeop.io/v1alpha1/namespaces/p/apps/web',
    );
    expect(resourcePath(resourceType('paas.kubeop.io/v1alpha1', 'Tenant'))).toBe(
      '/apis/paas.kubeop.io/v1alpha1/tenants',
    );
  });

  it('refuses a kind it does not know', () => {
    expect(() => resourceType('v1', 'Nope')).toThrow(/does not know/);
  });
});
