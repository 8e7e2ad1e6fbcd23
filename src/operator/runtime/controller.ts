import type { Logger } from '../../platform/logging.ts';
import { TerminalError } from './errors.ts';
import { WorkQueue } from './queue.ts';
import { RECONCILE_RESULTS, type ReconcileOutcome, type RuntimeMetrics } from './runtime-metrics.ts';

/** Done (void or `{}`), or done for now and reconcile again after `requeueAfterMs`. */
export type Result = { requeueAfterMs?: number } | void;

export interface ControllerOptions {
  /** Unique per process; labels metrics and logs. */
  name: string;
  /** Brings the object named by `key` to its desired state. Must be idempotent: it may run again at any time. */
  reconcile: (key: string) => Promise<Result>;
  workers: number;
  queue?: WorkQueue;
  metrics: RuntimeMetrics;
  logger: Logger;
}

/**
 * Runs `reconcile` for queued keys on N workers, shaped like controller-runtime's controller.
 *
 * Contracts:
 * - One key is never reconciled by two workers at the same time (the queue hands a key out once until
 *   `done`); keys added meanwhile are reconciled once more afterwards. Different keys run in parallel.
 * - Outcome of one reconcile, which also decides what happens to the key:
 *   returns void or `{}` → success, backoff forgotten;
 *   returns `{ requeueAfterMs }` → backoff forgotten, key added again after that delay;
 *   throws `TerminalError` → logged, backoff forgotten, not retried;
 *   throws anything else → logged, retried with the queue's per-key exponential backoff.
 * - `stop()` takes no new keys and resolves once in-flight reconciles finish; it does not bound how long
 *   they take. Once it resolved the controller may be started again (a new leadership term): it
 *   starts with an empty queue, so whoever starts it enqueues everything (level-triggered).
 */
export class Controller {
  readonly name: string;
  readonly #reconcile: (key: string) => Promise<Result>;
  readonly #workerCount: number;
  #queue: WorkQueue;
  readonly #newQueue: () => WorkQueue;
  readonly #metrics: RuntimeMetrics;
  readonly #logger: Logger;
  readonly #labels: { controller: string };
  #workers: Array<Promise<void>> | undefined;

  constructor(opts: ControllerOptions) {
    if (!Number.isInteger(opts.workers) || opts.workers < 1) {
      throw new Error(`controller "${opts.name}": workers must be an integer ≥ 1`);
    }
    this.name = opts.name;
    this.#reconcile = opts.reconcile;
    this.#workerCount = opts.workers;
    const given = opts.queue;
    this.#newQueue = () => new WorkQueue();
    this.#queue = given ?? this.#newQueue();
    this.#metrics = opts.metrics;
    this.#logger = opts.logger.child({ controller: opts.name });
    this.#labels = { controller: opts.name };

    this.#metrics.trackQueueDepth(opts.name, () => this.#queue.depth);
    // Series exist from the start at zero, so rates and alerts work before the first failure.
    for (const result of RECONCILE_RESULTS) this.#metrics.reconcileTotal.inc({ ...this.#labels, result }, 0);
    this.#metrics.reconcileErrors.inc(this.#labels, 0);
    this.#metrics.workqueueRetries.inc(this.#labels, 0);
  }

  enqueue(key: string): void {
    this.#queue.add(key);
  }

  start(): void {
    if (this.#workers !== undefined) throw new Error(`controller "${this.name}" already started`);
    this.#workers = Array.from({ length: this.#workerCount }, () => this.#work());
    this.#logger.info({ workers: this.#workerCount }, 'controller started');
  }

  async stop(): Promise<void> {
    const queue = this.#queue;
    const workers = this.#workers;
    queue.shutDown();
    await Promise.all(workers ?? []);
    // Ready for another start; a second stop() meanwhile finds the same (shut) queue and no workers.
    if (this.#queue === queue && this.#workers === workers) {
      this.#queue = this.#newQueue();
      this.#workers = undefined;
    }
    this.#logger.info('controller stopped');
  }

  async #work(): Promise<void> {
    for (;;) {
      const item = await this.#queue.get();
      if (item === undefined) return;
      this.#metrics.workqueueWait.observe(this.#labels, item.waitedMs / 1000);
      try {
        await this.#reconcileOne(item.key);
      } finally {
        this.#queue.done(item.key);
      }
    }
  }

  /** Never throws: every outcome is turned into a queue action, a metric and, for failures, a log line. */
  async #reconcileOne(key: string): Promise<void> {
    const endTimer = this.#metrics.reconcileDuration.startTimer(this.#labels);
    let outcome: ReconcileOutcome;
    try {
      const result = await this.#reconcile(key);
      this.#queue.forget(key);
      if (result?.requeueAfterMs !== undefined) {
        this.#queue.addAfter(key, result.requeueAfterMs);
        outcome = 'requeue';
      } else {
        outcome = 'success';
      }
    } catch (err) {
      this.#metrics.reconcileErrors.inc(this.#labels);
      if (err instanceof TerminalError) {
        this.#queue.forget(key);
        this.#logger.error({ err, key, reason: err.reason }, 'reconcile failed terminally; not retrying');
        outcome = 'terminal';
      } else {
        this.#queue.addRateLimited(key);
        this.#metrics.workqueueRetries.inc(this.#labels);
        this.#logger.error({ err, key }, 'reconcile failed; retrying with backoff');
        outcome = 'error';
      }
    } finally {
      endTimer();
    }
    this.#metrics.reconcileTotal.inc({ ...this.#labels, result: outcome });
  }
}
