import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/**
 * The operator runtime's metrics, labelled by controller. Create them once per registry and share the
 * result between all controllers of the process (a second `createRuntimeMetrics` on the same registry
 * throws, as prom-client refuses duplicate names).
 */
export interface RuntimeMetrics {
  /** Reconciles by outcome: success | requeue | error | terminal. */
  reconcileTotal: Counter<'controller' | 'result'>;
  /** Reconciles that threw, terminal or not. */
  reconcileErrors: Counter<'controller'>;
  reconcileDuration: Histogram<'controller'>;
  /** Keys waiting, read from each tracked queue at scrape time. */
  workqueueDepth: Gauge<'controller'>;
  /** Time from a key being added to a worker picking it up. */
  workqueueWait: Histogram<'controller'>;
  /** Keys re-added with backoff after a retryable error. */
  workqueueRetries: Counter<'controller'>;
  /** Reports `depth()` as the controller's queue depth on every scrape. Names must be unique. */
  trackQueueDepth(controller: string, depth: () => number): void;
}

export const RECONCILE_RESULTS = ['success', 'requeue', 'error', 'terminal'] as const;
export type ReconcileOutcome = (typeof RECONCILE_RESULTS)[number];

export function createRuntimeMetrics(registry: Registry): RuntimeMetrics {
  const depthSources = new Map<string, () => number>();
  const registers = [registry];
  return {
    reconcileTotal: new Counter({
      name: 'kubeop_controller_reconcile_total',
      help: 'Reconciles by controller and result (success, requeue, error, terminal).',
      labelNames: ['controller', 'result'] as const,
      registers,
    }),
    reconcileErrors: new Counter({
      name: 'kubeop_controller_reconcile_errors_total',
      help: 'Reconciles that threw an error, retryable or terminal.',
      labelNames: ['controller'] as const,
      registers,
    }),
    reconcileDuration: new Histogram({
      name: 'kubeop_controller_reconcile_duration_seconds',
      help: 'Time spent in one reconcile.',
      labelNames: ['controller'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers,
    }),
    workqueueDepth: new Gauge({
      name: 'kubeop_workqueue_depth',
      help: 'Keys waiting in the work queue.',
      labelNames: ['controller'] as const,
      registers,
      collect() {
        for (const [controller, depth] of depthSources) this.set({ controller }, depth());
      },
    }),
    workqueueWait: new Histogram({
      name: 'kubeop_workqueue_wait_seconds',
      help: 'Time a key waited in the work queue before a worker picked it up.',
      labelNames: ['controller'] as const,
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300],
      registers,
    }),
    workqueueRetries: new Counter({
      name: 'kubeop_workqueue_retries_total',
      help: 'Keys re-added with backoff after a retryable reconcile error.',
      labelNames: ['controller'] as const,
      registers,
    }),
    trackQueueDepth(controller, depth) {
      if (depthSources.has(controller)) throw new Error(`controller "${controller}" is already registered`);
      depthSources.set(controller, depth);
    },
  };
}
