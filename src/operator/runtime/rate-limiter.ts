/**
 * Per-key retry delays. `when(key)` records one more failure of the key and returns how long to wait
 * before the next attempt; `forget(key)` clears the key's history once it succeeded or was given up on.
 */
export interface RateLimiter {
  when(key: string): number;
  retries(key: string): number;
  forget(key: string): void;
}

/**
 * Delay = base · 2^failures, capped at max: 5 ms, 10 ms, 20 ms … 5 minutes with the defaults (the
 * curve of client-go's per-item limiter). The first retry waits `base`. Keys are independent: one key
 * failing never slows another. Holds one entry per key that failed and was not forgotten.
 */
export class ExponentialRateLimiter implements RateLimiter {
  readonly #failures = new Map<string, number>();
  readonly #baseMs: number;
  readonly #maxMs: number;

  constructor(baseMs = 5, maxMs = 300_000) {
    this.#baseMs = baseMs;
    this.#maxMs = maxMs;
  }

  when(key: string): number {
    const failures = this.#failures.get(key) ?? 0;
    this.#failures.set(key, failures + 1);
    // 2 ** failures reaches Infinity for a very long failing key; min() still yields max.
    return Math.min(this.#maxMs, this.#baseMs * 2 ** failures);
  }

  retries(key: string): number {
    return this.#failures.get(key) ?? 0;
  }

  forget(key: string): void {
    this.#failures.delete(key);
  }
}
