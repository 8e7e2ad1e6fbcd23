import { Registry } from 'prom-client';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createLogger } from '../../platform/logging.ts';
import { Controller, type ReconcileContext, type Result } from './controller.ts';
import { TerminalError } from './errors.ts';
import { WorkQueue } from './queue.ts';
import { ExponentialRateLimiter } from './rate-limiter.ts';
import { createRuntimeMetrics } from './runtime-metrics.ts';
import { FakeClock } from '../../../test/support/fake-clock.ts';

const controllers: Controller[] = [];
afterEach(async () => {
  await Promise.all(controllers.splice(0).map((c) => c.stop()));
});

function setup(
  reconcile: (key: string, ctx: ReconcileContext) => Promise<Result>,
  workers = 1,
  timeoutMs?: number,
) {
  const clock = new FakeClock();
  const limiter = new ExponentialRateLimiter(5, 1000);
  const queue = new WorkQueue({ clock, rateLimiter: limiter });
  const registry = new Registry();
  const controller = new Controller({
    name: 'apps',
    reconcile,
    workers,
    ...(timeoutMs !== undefined ? { timeoutMs } : {}),
    queue,
    metrics: createRuntimeMetrics(registry),
    logger: createLogger({ service: 'test', level: 'silent' }),
  });
  controllers.push(controller);
  return { clock, limiter, queue, registry, controller };
}

/** Lets every pending promise continuation run (a timer that fired → a worker → reconcile). */
const flush = () => new Promise((resolve) => setImmediate(resolve));
const until = (check: () => void) => vi.waitFor(check, { timeout: 2000, interval: 1 });

/** One sample from the registry, e.g. `kubeop_workqueue_wait_seconds_sum` for a histogram's sum. */
async function sample(registry: Registry, name: string, labels: Record<string, string> = {}) {
  const base = name.replace(/_(sum|count)$/, '');
  const metric = registry.getSingleMetric(base);
  if (metric === undefined) throw new Error(`no metric ${base}`);
  // Histogram samples carry their series name (`…_sum`, `…_count`, `…_bucket`); counters and gauges do not.
  const values: Array<{ value: number; labels: Record<string, unknown>; metricName?: string }> = (
    await metric.get()
  ).values;
  return values.find(
    (v) =>
      (v.metricName ?? base) === name &&
      Object.entries({ controller: 'apps', ...labels }).every(([k, want]) => v.labels[k] === want),
  )?.value;
}

describe('Controller', () => {
  it('never reconciles one key on two workers at once, and reconciles a key added meanwhile once more', async () => {
    const active = new Set<string>();
    const calls: string[] = [];
    let overlaps = 0;
    let mostAtOnce = 0;
    const { controller } = setup(async (key) => {
      calls.push(key);
      if (active.has(key)) overlaps++;
      active.add(key);
      mostAtOnce = Math.max(mostAtOnce, active.size);
      await new Promise((resolve) => setTimeout(resolve, 30));
      active.delete(key);
    }, 4);
    controller.enqueue('a');
    controller.enqueue('b');
    controller.start();
    await until(() => expect(active).toEqual(new Set(['a', 'b'])));
    // Idle workers are blocked on the queue; each of these adds would hand 'a' or 'b' to one of them
    // if the queue did not hold keys that are in flight.
    for (let i = 0; i < 5; i++) {
      controller.enqueue('a');
      controller.enqueue('b');
    }
    controller.enqueue('c');
    await until(() => expect(calls).toHaveLength(5));
    await until(() => expect(active.size).toBe(0));
    await flush();

    expect(overlaps).toBe(0);
    expect(mostAtOnce).toBeGreaterThanOrEqual(2); // the workers did run in parallel
    expect(calls.toSorted()).toEqual(['a', 'a', 'b', 'b', 'c']);
  });

  it('a successful reconcile forgets the key and is counted as success', async () => {
    const calls: string[] = [];
    const { controller, registry, clock } = setup(async (key) => {
      calls.push(key);
    });
    controller.enqueue('a');
    controller.start();
    await until(() => expect(calls).toEqual(['a']));
    clock.advance(60_000);
    await flush();

    expect(calls).toEqual(['a']);
    expect(await sample(registry, 'kubeop_controller_reconcile_total', { result: 'success' })).toBe(1);
    expect(await sample(registry, 'kubeop_controller_reconcile_total', { result: 'error' })).toBe(0);
    expect(await sample(registry, 'kubeop_controller_reconcile_duration_seconds_count')).toBe(1);
  });

  it('a result with requeueAfterMs reconciles the key again after that delay', async () => {
    const calls: string[] = [];
    const { controller, registry, clock } = setup(async (key) => {
      calls.push(key);
      return calls.length === 1 ? { requeueAfterMs: 30_000 } : undefined;
    });
    controller.enqueue('a');
    controller.start();
    await until(() => expect(calls).toHaveLength(1));

    clock.advance(29_999);
    await flush();
    expect(calls).toHaveLength(1);
    clock.advance(1);
    await until(() => expect(calls).toHaveLength(2));

    expect(await sample(registry, 'kubeop_controller_reconcile_total', { result: 'requeue' })).toBe(1);
    expect(await sample(registry, 'kubeop_controller_reconcile_total', { result: 'success' })).toBe(1);
  });

  it('a failing reconcile is retried after growing backoff delays, then its backoff is forgotten', async () => {
    const calls: number[] = [];
    const { controller, registry, clock, limiter } = setup(async () => {
      calls.push(clock.now());
      if (calls.length <= 2) throw new Error('apiserver unavailable');
    });
    controller.enqueue('a');
    controller.start();
    await until(() => expect(calls).toHaveLength(1));

    clock.advance(4);
    await flush();
    expect(calls).toHaveLength(1);
    clock.advance(1);
    await until(() => expect(calls).toHaveLength(2));
    clock.advance(9);
    await flush();
    expect(calls).toHaveLength(2);
    clock.advance(1);
    await until(() => expect(calls).toHaveLength(3));
    await flush();

    expect(calls).toEqual([0, 5, 15]); // 5 ms, then 10 ms
    expect(limiter.retries('a')).toBe(0);
    expect(await sample(registry, 'kubeop_controller_reconcile_total', { result: 'error' })).toBe(2);
    expect(await sample(registry, 'kubeop_controller_reconcile_total', { result: 'success' })).toBe(1);
    expect(await sample(registry, 'kubeop_controller_reconcile_errors_total')).toBe(2);
    expect(await sample(registry, 'kubeop_workqueue_retries_total')).toBe(2);
  });

  it('a TerminalError is not retried and forgets the key’s backoff', async () => {
    let calls = 0;
    const { controller, registry, clock, limiter } = setup(async () => {
      calls++;
      if (calls === 1) throw new Error('conflict');
      throw new TerminalError('InvalidSpec', 'spec.image is empty');
    });
    controller.enqueue('a');
    controller.start();
    await until(() => expect(calls).toBe(1));
    clock.advance(5);
    await until(() => expect(calls).toBe(2));
    await flush();
    expect(limiter.retries('a')).toBe(0);

    clock.advance(600_000);
    await flush();
    expect(calls).toBe(2);
    expect(await sample(registry, 'kubeop_controller_reconcile_total', { result: 'terminal' })).toBe(1);
    expect(await sample(registry, 'kubeop_controller_reconcile_total', { result: 'error' })).toBe(1);
    expect(await sample(registry, 'kubeop_controller_reconcile_errors_total')).toBe(2);
    expect(await sample(registry, 'kubeop_workqueue_retries_total')).toBe(1);
  });

  it('observes how long a key waited in the queue before a worker took it', async () => {
    let calls = 0;
    const { controller, registry, clock } = setup(async () => {
      calls++;
    });
    controller.enqueue('a');
    clock.advance(2_000);
    controller.start();
    await until(() => expect(calls).toBe(1));

    expect(await sample(registry, 'kubeop_workqueue_wait_seconds_count')).toBe(1);
    expect(await sample(registry, 'kubeop_workqueue_wait_seconds_sum')).toBe(2);
  });

  it('reports the number of waiting keys as the queue depth', async () => {
    const { controller, registry } = setup(async () => {});
    for (const key of ['a', 'b', 'c', 'a']) controller.enqueue(key);
    expect(await sample(registry, 'kubeop_workqueue_depth')).toBe(3);
    controller.start();
    await until(async () => expect(await sample(registry, 'kubeop_workqueue_depth')).toBe(0));
  });

  it('stop waits for the in-flight reconcile and takes no new keys', async () => {
    const calls: string[] = [];
    let release = () => {};
    const { controller } = setup(async (key) => {
      calls.push(key);
      await new Promise<void>((resolve) => (release = resolve));
    });
    controller.enqueue('a');
    controller.start();
    await until(() => expect(calls).toEqual(['a']));
    controller.enqueue('b');

    let stopped = false;
    const stopping = controller.stop().then(() => (stopped = true));
    await flush();
    expect(stopped).toBe(false);
    release();
    await stopping;
    expect(calls).toEqual(['a']);
    controller.enqueue('c');
    await flush();
    expect(calls).toEqual(['a']);
  });

  it('gives each reconcile a context: a live signal, a deadline ahead and an id of its own', async () => {
    const seen: ReconcileContext[] = [];
    const { controller } = setup(async (_key, ctx) => {
      seen.push(ctx);
    });
    controller.start();
    const before = Date.now();
    controller.enqueue('a');
    await until(() => expect(seen).toHaveLength(1));
    controller.enqueue('a');
    await until(() => expect(seen).toHaveLength(2));
    expect(seen[0]!.signal.aborted).toBe(false);
    expect(seen[0]!.deadline).toBeGreaterThan(before + 60_000);
    expect(seen[0]!.id).not.toBe(seen[1]!.id);
    expect(typeof seen[0]!.log.info).toBe('function');
  });

  it('stop aborts the signal of the reconcile in flight, which is then not retried', async () => {
    let calls = 0;
    const { controller, queue } = setup(
      (_key, ctx) =>
        new Promise<Result>((_resolve, reject) => {
          calls++;
          ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason as Error));
        }),
    );
    controller.start();
    controller.enqueue('a');
    await until(() => expect(calls).toBe(1));
    await controller.stop();
    expect(queue.depth).toBe(0);
    expect(calls).toBe(1);
  });

  it('aborts a reconcile that outlives its deadline and retries it with backoff', async () => {
    const aborted: string[] = [];
    let calls = 0;
    const { controller, registry } = setup(
      (_key, ctx) =>
        new Promise<Result>((resolve, reject) => {
          calls++;
          if (calls > 1) return resolve();
          ctx.signal.addEventListener('abort', () => {
            aborted.push(String((ctx.signal.reason as Error).message));
            reject(ctx.signal.reason as Error);
          });
        }),
      1,
      20,
    );
    controller.start();
    controller.enqueue('a');
    await until(() => expect(aborted).toEqual(['reconcile exceeded its deadline of 20 ms']));
    expect(await sample(registry, 'kubeop_workqueue_retries_total')).toBe(1);
  });

  it('starts again after a stop (a new leadership term), reconciling only what is enqueued anew', async () => {
    const calls: string[] = [];
    const { controller } = setup(async (key) => {
      calls.push(key);
    });
    controller.start();
    controller.enqueue('a');
    await until(() => expect(calls).toEqual(['a']));
    await controller.stop();
    controller.enqueue('while-stopped');
    expect(() => controller.start()).not.toThrow();
    controller.enqueue('b');
    await until(() => expect(calls).toEqual(['a', 'while-stopped', 'b']));
    expect(() => controller.start()).toThrow(/already started/);
  });
});
