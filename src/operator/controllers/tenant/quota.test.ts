import { describe, expect, it } from 'vitest';
import { DEFAULT_PROJECT_COMPUTE_QUOTA, defaultComputeQuota } from '../../../domain/quota.ts';
import type { Project, Tenant } from '../../../schemas/crds/types.ts';
import { renderResourceQuota, requestedResources } from './quota.ts';

const project = (quota?: Project['spec']['quota']): Project => ({
  apiVersion: 'paas.kubeop.io/v1alpha1',
  kind: 'Project',
  metadata: { name: 'web' },
  spec: { tenantRef: { name: 'acme' }, ...(quota ? { quota } : {}) },
});

/** The `hard` of the project's ResourceQuota, rendered as the Tenant reconciler does with no tenant limits. */
function hard(
  p: Project,
  tenantDefaults?: Tenant['spec']['projectQuotaDefaults'],
  platform: Parameters<typeof defaultComputeQuota>[0] = DEFAULT_PROJECT_COMPUTE_QUOTA,
  limited: ReadonlySet<string> = new Set(),
): Record<string, string> {
  const requested = requestedResources(
    p,
    limited,
    defaultComputeQuota(platform, tenantDefaults, p.spec.quota),
  );
  const rq = renderResourceQuota(p, 'acme-web', requested, {}, []);
  return (rq.spec as { hard: Record<string, string> }).hard;
}

describe('project ResourceQuota: compute', () => {
  it('a project with no quota gets the platform default cpu and memory, requests and limits', () => {
    expect(hard(project())).toMatchObject({
      'requests.cpu': '8',
      'requests.memory': '16Gi',
      'limits.cpu': '16',
      'limits.memory': '32Gi',
      pods: '50',
    });
  });

  it('the tenant projectQuotaDefaults override the platform default field by field', () => {
    expect(hard(project(), { cpu: '2', limitsMemory: '4Gi' })).toMatchObject({
      'requests.cpu': '2',
      'requests.memory': '16Gi',
      'limits.cpu': '16',
      'limits.memory': '4Gi',
    });
  });

  it("the project's own quota overrides both", () => {
    expect(hard(project({ cpu: '500m', limitsCpu: '1' }), { cpu: '2' })).toMatchObject({
      'requests.cpu': '500m',
      'limits.cpu': '1',
      'requests.memory': '16Gi',
    });
  });

  it('a project opts out with unlimitedCompute: no compute entries, object counts stay', () => {
    const h = hard(project({ unlimitedCompute: true, memory: '1Gi' }), { cpu: '2' });
    expect(h['requests.cpu']).toBeUndefined();
    expect(h['limits.cpu']).toBeUndefined();
    expect(h['limits.memory']).toBeUndefined();
    expect(h['requests.memory']).toBe('1Gi');
    expect(h.pods).toBe('50');
  });

  it('the platform may leave a resource without default (KUBEOP_PROJECT_QUOTA_*=none)', () => {
    const h = hard(project(), undefined, { cpu: '4', memory: '8Gi' });
    expect(h).toMatchObject({ 'requests.cpu': '4', 'requests.memory': '8Gi' });
    expect(h['limits.cpu']).toBeUndefined();
  });

  it('a resource the tenant limits comes from its allocation, never from a default', () => {
    const requested = requestedResources(
      project(),
      new Set(['requests.cpu']),
      defaultComputeQuota(DEFAULT_PROJECT_COMPUTE_QUOTA, undefined, undefined),
    );
    expect(requested['requests.cpu']).toBeUndefined();
    expect(requested['requests.memory']).toBe(16n * 2n ** 30n * 1000n);
  });
});
