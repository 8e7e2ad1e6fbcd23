import type { KubeConfig } from '@kubernetes/client-node';
import { Counter, Gauge, type Registry } from 'prom-client';
import { LABEL_MANAGED_BY, MANAGED_BY } from '../../domain/naming.ts';
import { KubeClient, type KubeTransport } from '../../kube/client.ts';
import { SharedInformers, type SharedInformer } from '../../kube/cache.ts';
import type { Logger } from '../../platform/logging.ts';
import { SampleBuffer } from './buffer.ts';
import { sample, windowStart, type PodMetricsLike, type SampleInput, type UsageEventOut } from './sample.ts';
import type { UsageSink } from './sender.ts';

export interface MeteringOptions {
  kc: KubeConfig;
  /** The process's informer cache (shared with the operator); its own when absent. */
  informers?: SharedInformers | undefined;
  /** The process's transport to the API server; one of its own when absent. */
  transport?: KubeTransport | undefined;
  /** For the metrics API; default: a read-only client of `kc`. */
  client?: KubeClient;
  logger: Logger;
  registry: Registry;
  /** Name of this cluster in usage events (part of every idempotency key). */
  cluster: string;
  intervalSeconds: number;
  /** Where batches go: `httpSink(url, token)`, or the manager's ingestion in-process. */
  sink: UsageSink;
  bufferSize: number;
  /** Samples only while this returns true (the leader); other replicas keep warm caches. */
  isLeader?: () => boolean;
  now?: () => number;
}

export interface RunningMetering {
  synced(): boolean;
  /**
   * Why metering is impaired right now, or undefined when it is fine: caches not synced, the last
   * tick failed, or the manager did not take the last batch (events wait in the buffer).
   */
  problem(): string | undefined;
  /** One tick now: sample the current window and flush the buffer. */
  tick(): Promise<void>;
  stop(): Promise<void>;
}

const BATCH = 1000;

/**
 * The operator's metering loop: at every window boundary it samples pods, PVCs and services of
 * project namespaces from informer caches (and actual use from metrics.k8s.io when served), buffers
 * the events and sends them to the manager in batches of 1,000. Idempotency keys are deterministic,
 * so retries, overlapping ticks and several replicas never double-count; while the manager is
 * unreachable events wait in a bounded buffer, and what overflows is counted in
 * kubeop_metering_dropped_samples_total.
 */
export async function startMetering(opts: MeteringOptions): Promise<RunningMetering> {
  const { logger } = opts;
  const now = opts.now ?? Date.now;
  const client =
    opts.client ?? new KubeClient(opts.transport ?? opts.kc, { fieldManager: 'kubeop-metering' });
  const samples = new Counter({
    name: 'kubeop_metering_samples_total',
    help: 'Usage events the operator measured.',
    registers: [opts.registry],
  });
  const sent = new Counter({
    name: 'kubeop_metering_sent_total',
    help: 'Usage events delivered to the manager, by whether it counted them (accepted) or had them already (duplicate).',
    labelNames: ['result'] as const,
    registers: [opts.registry],
  });
  const dropped = new Counter({
    name: 'kubeop_metering_dropped_samples_total',
    help: 'Usage events given up: the buffer was full while the manager was unreachable, or the manager rejected them.',
    labelNames: ['reason'] as const,
    registers: [opts.registry],
  });
  const buffered = new Gauge({
    name: 'kubeop_metering_buffered_samples',
    help: 'Usage events waiting to be sent to the manager.',
    registers: [opts.registry],
  });
  const buffer = new SampleBuffer<UsageEventOut>(opts.bufferSize, (n) =>
    dropped.inc({ reason: 'buffer_full' }, n),
  );

  // Metering only reads its caches, at each tick: it registers no handler, so resyncs cost it nothing.
  const cache = opts.informers ?? SharedInformers.forCluster(opts.kc, { logger, resyncPeriodMs: 0 });
  const informers: SharedInformer[] = [];
  const inf = (apiVersion: string, kind: string, labelSelector?: string) => {
    const i = cache.informer({ apiVersion, kind, labelSelector });
    informers.push(i);
    return i;
  };
  const namespaces = inf('v1', 'Namespace', `${LABEL_MANAGED_BY}=${MANAGED_BY}`);
  const pods = inf('v1', 'Pod');
  const pvcs = inf('v1', 'PersistentVolumeClaim');
  const services = inf('v1', 'Service');

  let metricsServed: boolean | undefined;
  async function podMetrics(): Promise<PodMetricsLike[] | undefined> {
    if (metricsServed === false) return undefined;
    try {
      const list = await client.request<{ items: PodMetricsLike[] }>(
        'GET',
        '/apis/metrics.k8s.io/v1beta1/pods',
      );
      metricsServed = true;
      return list.items;
    } catch (err) {
      // Not served (404): requests only, and do not ask every tick. Other errors: requests this tick.
      if ((err as { code?: number }).code === 404) metricsServed = false;
      logger.debug({ err: (err as Error).message }, 'metering: no pod metrics this tick');
      return undefined;
    }
  }

  let flushing: Promise<void> | undefined;
  let sendProblem: string | undefined;
  let tickProblem: string | undefined;
  async function flush(): Promise<void> {
    while (buffer.size > 0) {
      const batch = buffer.peek(BATCH);
      const r = await opts.sink(batch);
      if (r.outcome === 'retry') {
        sendProblem = `the manager did not take usage (${r.reason}); ${buffer.size} events buffered`;
        logger.warn(
          { reason: r.reason, buffered: buffer.size },
          'metering: manager not reachable; will retry',
        );
        break;
      }
      buffer.commit(batch.length);
      sendProblem = undefined;
      if (r.outcome === 'rejected') {
        dropped.inc({ reason: 'rejected' }, batch.length);
        logger.error(
          { reason: r.reason, events: batch.length },
          'metering: manager rejected a batch; dropped',
        );
      } else {
        sent.inc({ result: 'accepted' }, r.accepted);
        sent.inc({ result: 'duplicate' }, r.duplicates);
      }
    }
    buffered.set(buffer.size);
  }

  async function tick(): Promise<void> {
    if (!informers.every((i) => i.hasSynced())) return;
    if (!opts.isLeader || opts.isLeader()) {
      const input: SampleInput = {
        cluster: opts.cluster,
        windowStart: windowStart(now(), opts.intervalSeconds),
        windowSeconds: opts.intervalSeconds,
        namespaces: namespaces.list() as SampleInput['namespaces'],
        pods: pods.list() as SampleInput['pods'],
        pvcs: pvcs.list() as SampleInput['pvcs'],
        services: services.list() as SampleInput['services'],
      };
      const metrics = await podMetrics();
      const events = sample(metrics ? { ...input, podMetrics: metrics } : input);
      samples.inc(events.length);
      buffer.push(events);
    }
    // One flush at a time: a slow manager must not make ticks pile up concurrent sends.
    flushing ??= flush().finally(() => (flushing = undefined));
    await flushing;
  }

  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  let running: Promise<void> | undefined;
  const runTick = () => {
    // A failed tick is logged and reported by problem(); the next window ticks again. It never
    // ends the process (the manager of `kubeop all` shares it).
    running = tick()
      .then(() => (tickProblem = undefined))
      .catch((err: unknown) => {
        tickProblem = `the last tick failed: ${(err as Error).message}`;
        logger.error({ err }, 'metering tick failed');
      })
      .finally(() => (running = undefined));
    return running;
  };
  const schedule = () => {
    if (stopped) return;
    const period = opts.intervalSeconds * 1000;
    // Just after the next window boundary, so each tick samples a fresh window.
    const delay = windowStart(now(), opts.intervalSeconds) + period - now() + 50;
    timer = setTimeout(() => void runTick().finally(schedule), delay);
  };
  void Promise.all(informers.map((i) => i.waitForSync()))
    .then(() => runTick())
    .catch(() => {})
    .finally(schedule);

  return {
    synced: () => informers.every((i) => i.hasSynced()),
    problem: () =>
      !informers.every((i) => i.hasSynced())
        ? 'metering caches have not synced'
        : (tickProblem ?? sendProblem),
    tick,
    async stop() {
      stopped = true;
      clearTimeout(timer);
      if (!opts.informers) cache.stop();
      // A tick in progress finishes (its samples are sampled already) before stop resolves.
      await running;
      await flushing;
    },
  };
}
