import { setTimeout as sleep } from 'node:timers/promises';
import { V1MicroTime, type KubeConfig, type V1Lease, type V1LeaseSpec } from '@kubernetes/client-node';
import { isConflict, type KubeTransport } from '../../kube/client.ts';
import type { Logger } from '../../platform/logging.ts';
import { leaseApi, type LeaseApi } from './lease-api.ts';

/**
 * Leader election on a `coordination.k8s.io/v1` Lease, shaped like client-go's leaderelection with a
 * LeaseLock. Contracts:
 *
 * - At most one candidate leads at a time, provided each candidate's clock *rate* is sane. No
 *   candidate compares a timestamp written by another with its own clock: a standby measures expiry
 *   from when *it* last saw the Lease change (its resourceVersion), on its own monotonic clock, so
 *   clock skew between machines cannot shorten a lease. `renewTime`/`acquireTime` are informational.
 * - A leader may assume it is alone until `renewDeadlineMs` after the start of its last successful
 *   renewal. A standby waits a full `leaseDurationMs` after it saw that renewal land, which is later,
 *   so the gap between the two durations is the safety margin. `isLeader()` enforces the deadline by
 *   clock, so it turns false on time even if the event loop stalled and the renew loop is late.
 * - Every write carries the resourceVersion it was decided on; a 409 means another candidate won.
 * - A leader that cannot renew before the deadline, or sees another holder, calls
 *   `onStoppedLeading('lost')` and `run()` resolves. It does not try again, because work started
 *   under the old term may still be in flight: the standalone operator exits and restarts clean, as
 *   controller-runtime does, and `kubeop all` campaigns with a fresh elector once that work has
 *   stopped (runtime/leadership.ts).
 * - `stop()` on a leader calls `onStoppedLeading` and then releases the Lease (no holder, 1 s
 *   duration) so a standby takes over at its next retry. Call it only after the work guarded by
 *   leadership has stopped, and once the callback returns nothing may act as leader any more.
 * - Identities must be unique per process: a candidate that finds its own identity on the Lease
 *   renews it at once.
 */
export interface LeaderElectorOptions {
  /** The process transport (its one keep-alive agent and error type), or a kubeconfig for one of its own. */
  kc: KubeConfig | KubeTransport;
  namespace: string;
  name: string;
  identity: string;
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  logger: Logger;
  /** Called once, when this candidate becomes leader. */
  onStartedLeading: () => void;
  /** Called once, only after onStartedLeading, when leadership ends (lost, or stopped by stop()). */
  onStoppedLeading: (why: 'lost' | 'stopped') => void;
  /** Called whenever the observed holder changes to a new (non-empty) identity, ours included. */
  onNewLeader?: (identity: string) => void;
}

export type LeaseAction = 'acquire' | 'renew' | 'wait';

/** What we last saw of the Lease, and when on our own monotonic clock we first saw that version. */
export interface LeaseObservation {
  resourceVersion: string | undefined;
  holder: string | undefined;
  observedAtMs: number;
}

/** Keeps the observation time while the Lease is unchanged; a new resourceVersion restarts it. */
export function observeLease(
  previous: LeaseObservation | undefined,
  lease: V1Lease | undefined,
  nowMs: number,
): LeaseObservation {
  const resourceVersion = lease?.metadata?.resourceVersion;
  if (previous && previous.resourceVersion === resourceVersion) return previous;
  return { resourceVersion, holder: lease?.spec?.holderIdentity || undefined, observedAtMs: nowMs };
}

/**
 * The pure decision. `spec` is undefined when no Lease exists. A Lease held by another is taken only
 * when it is released (no holder) or has not changed for its full duration as measured from
 * `observedAtMs`, our own observation; the remote `renewTime` is deliberately ignored.
 */
export function decideLease(input: {
  spec: V1LeaseSpec | undefined;
  identity: string;
  nowMs: number;
  observedAtMs: number;
}): LeaseAction {
  const { spec, identity, nowMs, observedAtMs } = input;
  if (!spec?.holderIdentity) return 'acquire';
  if (spec.holderIdentity === identity) return 'renew';
  const expiresAtMs = observedAtMs + (spec.leaseDurationSeconds ?? 0) * 1000;
  return nowMs >= expiresAtMs ? 'acquire' : 'wait';
}

/** The spec we write to acquire or renew; a change of holder counts as one transition. */
export function nextLeaseSpec(
  current: V1LeaseSpec | undefined,
  identity: string,
  now: Date,
  leaseDurationSeconds: number,
): V1LeaseSpec {
  const stamp = new V1MicroTime(now.getTime());
  const renewing = current?.holderIdentity === identity;
  return {
    holderIdentity: identity,
    leaseDurationSeconds,
    acquireTime: renewing ? (current.acquireTime ?? stamp) : stamp,
    renewTime: stamp,
    leaseTransitions: (current?.leaseTransitions ?? 0) + (current && !renewing ? 1 : 0),
  };
}

/** The spec a leader writes on graceful stop: no holder, so a standby may take it immediately. */
export function releasedLeaseSpec(current: V1LeaseSpec | undefined, now: Date): V1LeaseSpec {
  const stamp = new V1MicroTime(now.getTime());
  return {
    leaseDurationSeconds: 1,
    acquireTime: stamp,
    renewTime: stamp,
    leaseTransitions: current?.leaseTransitions ?? 0,
  };
}

const monotonicNow = () => performance.now();

export class LeaderElector {
  readonly #api: LeaseApi;
  readonly #identity: string;
  readonly #leaseDurationSeconds: number;
  readonly #renewDeadlineMs: number;
  readonly #retryPeriodMs: number;
  readonly #log: Logger;
  readonly #callbacks: Pick<LeaderElectorOptions, 'onStartedLeading' | 'onStoppedLeading' | 'onNewLeader'>;
  readonly #stopping = new AbortController();
  #running: Promise<void> | undefined;
  #observed: LeaseObservation | undefined;
  /** The Lease as last read or written; its resourceVersion guards the next write. */
  #lease: V1Lease | undefined;
  #leading = false;
  /** Monotonic start of the last successful acquire or renew request. */
  #renewedAtMs = -Infinity;

  constructor(opts: LeaderElectorOptions) {
    const { leaseDurationMs = 15_000, renewDeadlineMs = 10_000, retryPeriodMs = 2_000 } = opts;
    if (!(leaseDurationMs > renewDeadlineMs && renewDeadlineMs > retryPeriodMs && retryPeriodMs > 0)) {
      throw new RangeError(
        `leader election needs leaseDurationMs > renewDeadlineMs > retryPeriodMs > 0, got ${leaseDurationMs}, ${renewDeadlineMs}, ${retryPeriodMs}`,
      );
    }
    if (!opts.identity) throw new RangeError('leader election needs a non-empty identity');
    this.#api = leaseApi(opts.kc, opts.namespace, opts.name);
    this.#identity = opts.identity;
    // The Lease holds whole seconds; rounding up only makes standbys wait longer.
    this.#leaseDurationSeconds = Math.ceil(leaseDurationMs / 1000);
    this.#renewDeadlineMs = renewDeadlineMs;
    this.#retryPeriodMs = retryPeriodMs;
    this.#log = opts.logger.child({ lease: `${opts.namespace}/${opts.name}`, identity: opts.identity });
    this.#callbacks = opts;
  }

  /** True only while leading and within renewDeadlineMs of the last successful renewal. */
  isLeader(): boolean {
    return this.#leading && monotonicNow() - this.#renewedAtMs < this.#renewDeadlineMs;
  }

  /** Campaigns, then renews; resolves when leadership is lost or stop() was called. Runs once. */
  run(): Promise<void> {
    this.#running ??= this.#campaign(this.#stopping.signal);
    return this.#running;
  }

  /** Stops campaigning; a leader steps down and releases the Lease. Resolves when run() has. */
  async stop(): Promise<void> {
    this.#stopping.abort();
    await this.#running;
  }

  async #campaign(stopping: AbortSignal): Promise<void> {
    if (stopping.aborted) return;
    while (!(await this.#tryAcquireOrRenew())) {
      if (!(await pause(this.#retryPeriodMs, stopping))) return;
    }
    if (!stopping.aborted) {
      this.#leading = true;
      this.#log.info('started leading');
      this.#callbacks.onStartedLeading();
      while (await pause(this.#retryPeriodMs, stopping)) {
        if (await this.#tryAcquireOrRenew()) continue;
        const holder = this.#observed?.holder;
        const takenOver = holder !== undefined && holder !== this.#identity;
        if (takenOver || monotonicNow() - this.#renewedAtMs >= this.#renewDeadlineMs) {
          const why = takenOver ? 'another candidate holds the lease' : 'could not renew in time';
          this.#log.error({ holder }, `leadership lost: ${why}`);
          this.#stepDown('lost');
          return;
        }
      }
      this.#stepDown('stopped');
    }
    await this.#release();
  }

  #stepDown(why: 'lost' | 'stopped'): void {
    this.#leading = false;
    this.#log.info({ why }, 'stopped leading');
    this.#callbacks.onStoppedLeading(why);
  }

  /** One read-decide-write round, bounded so a hung request cannot outlive the renew deadline. */
  async #tryAcquireOrRenew(): Promise<boolean> {
    const startedAtMs = monotonicNow();
    const budgetMs = this.#leading
      ? this.#renewedAtMs + this.#renewDeadlineMs - startedAtMs
      : this.#renewDeadlineMs;
    if (budgetMs <= 0) return false;
    try {
      return await within(budgetMs, this.#attempt(startedAtMs));
    } catch (err) {
      if (isConflict(err)) {
        this.#log.debug('another candidate wrote the lease first');
      } else {
        this.#log.warn({ err }, 'lease acquire or renew failed');
      }
      return false;
    }
  }

  // A timed-out attempt may still complete later. Its effects stay safe: its write landed after
  // startedAtMs, so every standby measures expiry from a later point than our deadline does.
  async #attempt(startedAtMs: number): Promise<boolean> {
    const current = await this.#api.read();
    this.#observe(current);
    const action = decideLease({
      spec: current?.spec,
      identity: this.#identity,
      nowMs: monotonicNow(),
      observedAtMs: this.#observed!.observedAtMs,
    });
    if (action === 'wait') return false;
    const spec = nextLeaseSpec(current?.spec, this.#identity, new Date(), this.#leaseDurationSeconds);
    const written = current ? await this.#api.replace({ ...current, spec }) : await this.#api.create(spec);
    this.#observe(written);
    this.#renewedAtMs = Math.max(this.#renewedAtMs, startedAtMs);
    return true;
  }

  #observe(lease: V1Lease | undefined): void {
    const previous = this.#observed;
    this.#observed = observeLease(previous, lease, monotonicNow());
    this.#lease = lease;
    const holder = this.#observed.holder;
    if (holder && holder !== previous?.holder) {
      this.#log.info({ holder }, 'new leader observed');
      this.#callbacks.onNewLeader?.(holder);
    }
  }

  /** Best effort: if it fails, standbys take over when the lease expires. */
  async #release(): Promise<void> {
    const lease = this.#lease;
    if (lease?.spec?.holderIdentity !== this.#identity) return;
    try {
      await within(
        this.#renewDeadlineMs,
        this.#api.replace({ ...lease, spec: releasedLeaseSpec(lease.spec, new Date()) }),
      );
      this.#log.info('released the lease');
    } catch (err) {
      this.#log.warn({ err }, 'could not release the lease; a standby takes over when it expires');
    }
  }
}

/** Sleeps `ms`; false when `signal` aborted instead. */
async function pause(ms: number, signal: AbortSignal): Promise<boolean> {
  try {
    await sleep(ms, undefined, { signal });
    return true;
  } catch {
    return false;
  }
}

function within<T>(ms: number, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`lease request timed out after ${Math.round(ms)}ms`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}
