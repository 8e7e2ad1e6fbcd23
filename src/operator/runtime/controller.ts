import { randomBytes } from 'node:crypto';
import type { Logger } from '../../platform/logging.ts';
import { TerminalError } from './errors.ts';
import { WorkQueue } from './queue.ts';
import { RECONCILE_RESULTS, type ReconcileOutcome, type RuntimeMetrics } from './runtime-metrics.ts';

/** Done (void or `{}`), or done for now and reconcile again after `requeueAfterMs`. */
export type Result = { requeueAfterMs?: number } | void;

/**
 * What one reconcile gets besides its key, to pass to every I/O it does (controller-runtime's ctx).
 * `signal` aborts when the controller stops (shutdown, or the end of a leadership term) or when the
 * deadline passes; I/O given the signal then ends early and the reconcile should throw. `log` carries
 * the controller, the key and `id` on every line.
 */
export interface ReconcileContext {
  signal: AbortSignal;
  /** Epoch milliseconds at which `signal` aborts if the reconcile is still running. */
  deadline: number;
  log: Logger;
  /** Unique per reconcile attempt, to tell apart the log lines of two attempts at one key. */
  id: string;
}

/** Brings the object named by `key` to its desired state. Must be idempotent: it may run again at any time. */
export type Reconcile = (key: string, ctx: ReconcileContext) => Promise<Result>;

/** Default bound of one reconcile: above the git, helm and HTTP timeouts of the delivery sources. */
export const DEFAULT_RECONCILE_TIMEOUT_MS = 10 * 60_000;

export interface ControllerOptions {
  /** Unique per process; labels metrics and logs. */
  name: string;
  reconcile: Reconcile;
  /** How long one reconcile may run before its signal aborts; default DEFAULT_RECONCILE_TIMEOUT_MS. */
  timeoutMs?: number;
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
 * - A reconcile still running at its deadline has its signal aborted; what it throws then is an error
 *   like any other (retried with backoff), not a terminal one.
 * - `stop()` takes no new keys, aborts the signal of every in-flight reconcile and resolves once they
 *   return; a reconcile that ignores its signal still runs to its end. What a reconcile cancelled by
 *   `stop()` throws is logged, not retried (the queue is shut down; the next leader reconciles every
 *   key anyway). A stopped controller cannot be started again.
 */
export class Controller {
  readonly name: string;
  readonly #reconcile: Reconcile;
  readonly #timeoutMs: number;
  /** Aborted by `stop()`; replaced when the controller is started again. */
  #stopping = new AbortController();
  readonly #workerCount: number;
  #queue: WorkQueue;
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
    this.#timeoutMs = opts.timeoutMs ?? DEFAULT_RECONCILE_TIMEOUT_MS;
    this.#workerCount = opts.workers;
    this.#queue = opts.queue ?? new WorkQueue();
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
    const stopping = this.#stopping;
    queue.shutDown();
    stopping.abort(new Error(`controller "${this.name}" stopped`));
    await Promise.all(workers ?? []);
    // Ready for another start; a second stop() meanwhile finds the same (shut) queue and no workers.
    if (this.#queue === queue && this.#workers === workers) {
      this.#queue = new WorkQueue();
      this.#stopping = new AbortController();
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
    const id = randomBytes(6).toString('hex');
    const log = this.#logger.child({ key, reconcileId: id });
    // One controller per reconcile, with a timer and a stop listener removed the moment it is done
    // (AbortSignal.timeout and AbortSignal.any would keep both around for the whole timeout).
    const abort = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      abort.abort(new Error(`reconcile exceeded its deadline of ${this.#timeoutMs} ms`));
    }, this.#timeoutMs);
    timer.unref();
    // The term this reconcile runs in: stop() replaces #stopping only after every worker returned.
    const stopping = this.#stopping.signal;
    const onStop = () => abort.abort(stopping.reason);
    stopping.addEventListener('abort', onStop, { once: true });
    const ctx: ReconcileContext = {
      signal: abort.signal,
      deadline: Date.now() + this.#timeoutMs,
      log,
      id,
    };
    let outcome: ReconcileOutcome;
    try {
      const result = await this.#reconcile(key, ctx);
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
        log.error({ err, reason: err.reason }, 'reconcile failed terminally; not retrying');
        outcome = 'terminal';
      } else if (stopping.aborted) {
        log.info({ err }, 'reconcile cancelled: the controller stopped');
        outcome = 'error';
      } else {
        this.#queue.addRateLimited(key);
        this.#metrics.workqueueRetries.inc(this.#labels);
        log.error(
          { err, ...(timedOut ? { timeoutMs: this.#timeoutMs } : {}) },
          timedOut
            ? 'reconcile exceeded its deadline; retrying with backoff'
            : 'reconcile failed; retrying with backoff',
        );
        outcome = 'error';
      }
    } finally {
      clearTimeout(timer);
      stopping.removeEventListener('abort', onStop);
      endTimer();
    }
    this.#metrics.reconcileTotal.inc({ ...this.#labels, result: outcome });
  }
}
