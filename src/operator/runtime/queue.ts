import { ExponentialRateLimiter, type RateLimiter } from './rate-limiter.ts';

/** Time source and timers, injected so tests advance time instead of sleeping. */
export interface Clock {
  /** Milliseconds on a monotonic scale; only differences are meaningful. */
  now(): number;
  /** Calls `fn` once after `ms`; the returned function cancels it. */
  setTimer(fn: () => void, ms: number): () => void;
}

export const systemClock: Clock = {
  now: () => performance.now(),
  setTimer(fn, ms) {
    const timer = setTimeout(fn, ms);
    return () => clearTimeout(timer);
  },
};

/** A key handed to a worker, with how long it waited between being added and being handed out. */
export interface QueueItem {
  key: string;
  waitedMs: number;
}

/**
 * A work queue of string keys, shaped like client-go's workqueue. Contracts:
 *
 * - A key is waiting at most once: adding a key that is already waiting does nothing.
 * - A key is never handed out twice at the same time. A key added while it is being processed (between
 *   `get` and `done`) is marked dirty and waits again exactly once, when `done(key)` is called.
 *   Every `get` that returns a key must therefore be followed by `done(key)`.
 * - Keys are handed out in the order they started waiting; getters are served in the order they asked.
 * - `addAfter` keeps one pending delayed add per key; the earliest deadline wins.
 * - After `shutDown`, adds are ignored, pending delayed adds are dropped, and every `get` (waiting or
 *   new) returns undefined; keys still waiting are discarded, not drained.
 */
export class WorkQueue {
  /** Keys ready to be handed out → when each was added (insertion order is the queue order). */
  readonly #waiting = new Map<string, number>();
  readonly #processing = new Set<string>();
  /** Keys added while processing → when they were added; they wait again on `done`. */
  readonly #dirty = new Map<string, number>();
  readonly #delayed = new Map<string, { at: number; cancel: () => void }>();
  readonly #getters: Array<(item: QueueItem | undefined) => void> = [];
  #shuttingDown = false;

  readonly #clock: Clock;
  readonly #rateLimiter: RateLimiter;

  constructor(opts: { clock?: Clock; rateLimiter?: RateLimiter } = {}) {
    this.#clock = opts.clock ?? systemClock;
    this.#rateLimiter = opts.rateLimiter ?? new ExponentialRateLimiter();
  }

  /** Number of keys waiting to be handed out (not counting those being processed or delayed). */
  get depth(): number {
    return this.#waiting.size;
  }

  add(key: string): void {
    if (this.#shuttingDown || this.#waiting.has(key)) return;
    const now = this.#clock.now();
    if (this.#processing.has(key)) {
      if (!this.#dirty.has(key)) this.#dirty.set(key, now);
      return;
    }
    this.#enqueue(key, now);
  }

  /** Adds the key after `ms`. A shorter delay replaces a pending longer one; a longer one is ignored. */
  addAfter(key: string, ms: number): void {
    if (this.#shuttingDown) return;
    if (ms <= 0) {
      this.add(key);
      return;
    }
    const at = this.#clock.now() + ms;
    const pending = this.#delayed.get(key);
    if (pending !== undefined) {
      if (pending.at <= at) return;
      pending.cancel();
    }
    const cancel = this.#clock.setTimer(() => {
      this.#delayed.delete(key);
      this.add(key);
    }, ms);
    this.#delayed.set(key, { at, cancel });
  }

  /** Adds the key after its rate limiter delay, which grows with each call until `forget(key)`. */
  addRateLimited(key: string): void {
    this.addAfter(key, this.#rateLimiter.when(key));
  }

  /** Resets the key's backoff; call it once the key was processed successfully or given up on. */
  forget(key: string): void {
    this.#rateLimiter.forget(key);
  }

  /** The next key, marked as processing; undefined once the queue is shut down. */
  get(): Promise<QueueItem | undefined> {
    if (this.#shuttingDown) return Promise.resolve(undefined);
    const next = this.#waiting.entries().next();
    if (!next.done) {
      const [key, addedAt] = next.value;
      this.#waiting.delete(key);
      return Promise.resolve(this.#handOut(key, addedAt));
    }
    return new Promise((resolve) => this.#getters.push(resolve));
  }

  /** Ends processing of a key handed out by `get`; if it was added meanwhile, it waits again. */
  done(key: string): void {
    this.#processing.delete(key);
    const addedAt = this.#dirty.get(key);
    if (addedAt === undefined || this.#shuttingDown) return;
    this.#dirty.delete(key);
    this.#enqueue(key, addedAt);
  }

  shutDown(): void {
    this.#shuttingDown = true;
    for (const { cancel } of this.#delayed.values()) cancel();
    this.#delayed.clear();
    this.#waiting.clear();
    this.#dirty.clear();
    for (const getter of this.#getters.splice(0)) getter(undefined);
  }

  /** A key that is neither waiting nor processing: straight to a blocked getter, else to the back. */
  #enqueue(key: string, addedAt: number): void {
    const getter = this.#getters.shift();
    if (getter === undefined) this.#waiting.set(key, addedAt);
    else getter(this.#handOut(key, addedAt));
  }

  #handOut(key: string, addedAt: number): QueueItem {
    this.#processing.add(key);
    return { key, waitedMs: this.#clock.now() - addedAt };
  }
}
