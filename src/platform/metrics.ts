import { Registry, collectDefaultMetrics, Histogram } from 'prom-client';

/**
 * One Prometheus registry per process (no global default registry, so tests can build several).
 * Holds the Node.js runtime and process metrics and the HTTP request histogram every service shares.
 */
export interface ServiceMetrics {
  registry: Registry;
  httpDuration: Histogram<'route' | 'method' | 'status_class'>;
}

export function createServiceMetrics(): ServiceMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const httpDuration = new Histogram({
    name: 'kubeop_http_request_duration_seconds',
    help: 'HTTP request duration by route template (never the raw URL), method and status class.',
    labelNames: ['route', 'method', 'status_class'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  return { registry, httpDuration };
}

/** 200 → "2xx". */
export function statusClass(status: number): string {
  return `${Math.floor(status / 100)}xx`;
}
