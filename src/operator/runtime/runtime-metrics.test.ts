import { Registry, register as globalRegistry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createRuntimeMetrics } from './runtime-metrics.ts';

describe('createRuntimeMetrics', () => {
  it('registers every runtime metric on the given registry and none on the global one', async () => {
    const registry = new Registry();
    createRuntimeMetrics(registry);
    expect((await registry.getMetricsAsJSON()).map((m) => m.name).sort()).toEqual([
      'kubeop_controller_reconcile_duration_seconds',
      'kubeop_controller_reconcile_errors_total',
      'kubeop_controller_reconcile_total',
      'kubeop_workqueue_depth',
      'kubeop_workqueue_retries_total',
      'kubeop_workqueue_wait_seconds',
    ]);
    expect(globalRegistry.getSingleMetric('kubeop_controller_reconcile_total')).toBeUndefined();
  });

  it('reads each tracked queue’s depth at scrape time', async () => {
    const registry = new Registry();
    const metrics = createRuntimeMetrics(registry);
    let depth = 1;
    metrics.trackQueueDepth('apps', () => depth);
    metrics.trackQueueDepth('tenants', () => 7);
    depth = 4;
    const text = await registry.getSingleMetricAsString('kubeop_workqueue_depth');
    expect(text).toContain('kubeop_workqueue_depth{controller="apps"} 4');
    expect(text).toContain('kubeop_workqueue_depth{controller="tenants"} 7');
  });

  it('refuses a second queue under the same controller name', () => {
    const metrics = createRuntimeMetrics(new Registry());
    metrics.trackQueueDepth('apps', () => 0);
    expect(() => metrics.trackQueueDepth('apps', () => 0)).toThrow('controller "apps" is already registered');
  });
});
