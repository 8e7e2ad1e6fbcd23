import { describe, expect, it } from 'vitest';
import { LABEL_APP, LABEL_PROJECT, LABEL_TENANT } from '../../domain/naming.ts';
import {
  podRequest,
  sample,
  windowStart,
  type NamespaceLike,
  type PodLike,
  type SampleInput,
} from './sample.ts';

const ns = (name: string, tenant?: string, project?: string): NamespaceLike => ({
  metadata: {
    name,
    labels: tenant ? { [LABEL_TENANT]: tenant, [LABEL_PROJECT]: project! } : ({} as Record<string, string>),
  },
});
const pod = (
  name: string,
  namespace: string,
  app: string | undefined,
  cpu: string,
  memory: string,
  phase = 'Running',
): PodLike => ({
  metadata: { name, namespace, labels: app ? { [LABEL_APP]: app } : {} },
  spec: { containers: [{ name: 'c', resources: { requests: { cpu, memory } } }] },
  status: { phase },
});
const base = (over: Partial<SampleInput>): SampleInput => ({
  cluster: 'c1',
  windowStart: Date.parse('2026-11-26T10:00:00Z'),
  windowSeconds: 60,
  namespaces: [ns('acme-web-1234', 'acme', 'web'), ns('kube-system')],
  pods: [],
  pvcs: [],
  services: [],
  ...over,
});
const byMeter = (events: ReturnType<typeof sample>) =>
  Object.fromEntries(events.map((e) => [`${e.app}/${e.meter}`, e.quantity]));

describe('metering samples', () => {
  it('charges requests × window per app, and counts running pods', () => {
    const events = sample(
      base({
        pods: [
          pod('a1', 'acme-web-1234', 'frontend', '500m', '256Mi'),
          pod('a2', 'acme-web-1234', 'frontend', '250m', '256Mi'),
          pod('b1', 'acme-web-1234', undefined, '1', '1Gi'),
          pod('done', 'acme-web-1234', 'frontend', '4', '4Gi', 'Succeeded'),
          pod('sys', 'kube-system', undefined, '8', '8Gi'),
        ],
      }),
    );
    expect(byMeter(events)).toEqual({
      '/cpu': '60',
      '/memory': String(2 ** 30 * 60),
      '/pods': '60',
      'frontend/cpu': '45', // 0.75 cores × 60 s
      'frontend/memory': String(2 ** 29 * 60),
      'frontend/pods': '120',
    });
    expect(events[0]).toMatchObject({
      tenant: 'acme',
      project: 'web',
      cluster: 'c1',
      source: 'kubeop-operator',
      time: '2026-11-26T10:00:00.000Z',
    });
  });

  it('charges max(request, actual use) per pod where the metrics API has it', () => {
    const events = sample(
      base({
        pods: [pod('a1', 'acme-web-1234', 'x', '100m', '100Mi'), pod('a2', 'acme-web-1234', 'x', '1', '1Gi')],
        podMetrics: [
          {
            metadata: { name: 'a1', namespace: 'acme-web-1234' },
            containers: [{ name: 'c', usage: { cpu: '300m', memory: '50Mi' } }],
          },
          {
            metadata: { name: 'a2', namespace: 'acme-web-1234' },
            containers: [{ name: 'c', usage: { cpu: '10m', memory: '2Gi' } }],
          },
        ],
      }),
    );
    // cpu: 300m + 1000m; memory: 100Mi + 2Gi.
    expect(byMeter(events)['x/cpu']).toBe('78');
    expect(byMeter(events)['x/memory']).toBe(String((100 * 2 ** 20 + 2 * 2 ** 30) * 60));
  });

  it('meters PVC capacity and LoadBalancer services', () => {
    const events = sample(
      base({
        pvcs: [
          {
            metadata: { name: 'd', namespace: 'acme-web-1234', labels: { [LABEL_APP]: 'db' } },
            status: { phase: 'Bound', capacity: { storage: '10Gi' } },
          },
          {
            metadata: { name: 'p', namespace: 'acme-web-1234' },
            spec: { resources: { requests: { storage: '1Gi' } } },
            status: { phase: 'Pending' },
          },
        ],
        services: [
          { metadata: { name: 'lb', namespace: 'acme-web-1234' }, spec: { type: 'LoadBalancer' } },
          { metadata: { name: 'ip', namespace: 'acme-web-1234' }, spec: { type: 'ClusterIP' } },
        ],
      }),
    );
    expect(byMeter(events)).toEqual({
      'db/storage': String(10 * 2 ** 30 * 60),
      '/storage': String(2 ** 30 * 60),
      '/loadbalancers': '60',
    });
  });

  it('gives the same key for the same cluster, namespace, app, meter and window, and another for the next window', () => {
    const p = [pod('a1', 'acme-web-1234', 'x', '1', '1Gi')];
    const a = sample(base({ pods: p }));
    const again = sample(base({ pods: [...p, pod('a2', 'acme-web-1234', 'x', '1', '1Gi')] }));
    expect(again.map((e) => e.key)).toEqual(a.map((e) => e.key));
    const next = sample(base({ pods: p, windowStart: Date.parse('2026-11-26T10:01:00Z') }));
    expect(next.map((e) => e.key).some((k) => a.some((e) => e.key === k))).toBe(false);
    expect(a[0]!.key).toBe('c1/acme-web-1234/x/cpu/2026-11-26T10:00:00.000Z');
  });

  it('counts init containers and overhead as the scheduler does', () => {
    const p: PodLike = {
      metadata: {},
      spec: {
        containers: [
          { name: 'a', resources: { requests: { cpu: '100m' } } },
          { name: 'b', resources: { requests: { cpu: '100m' } } },
        ],
        initContainers: [{ name: 'i', resources: { requests: { cpu: '500m' } } }],
        overhead: { cpu: '10m' },
      },
    };
    expect(podRequest(p, 'cpu')).toBe(510n);
  });

  it('aligns windows to the interval', () => {
    expect(new Date(windowStart(Date.parse('2026-11-26T10:00:59.999Z'), 60)).toISOString()).toBe(
      '2026-11-26T10:00:00.000Z',
    );
    expect(new Date(windowStart(Date.parse('2026-11-26T10:00:07Z'), 5)).toISOString()).toBe(
      '2026-11-26T10:00:05.000Z',
    );
  });
});
