/** Raised when work did not settle before its deadline. */
export class DeadlineExceededError extends Error {
  constructor(what: string, ms: number) {
    super(`${what}: no answer within ${Math.round(ms)} ms`);
    this.name = 'DeadlineExceededError';
  }
}

/** Raised when the caller gave up (a stop) before the work settled. */
export class AbortedError extends Error {
  constructor(what: string) {
    super(`${what}: abandoned (stopping)`);
    this.name = 'AbortedError';
  }
}

/**
 * Waits for `work` at most `ms`, or until `signal` aborts, whichever comes first.
 *
 * Contract: the returned promise settles no later than the deadline or the abort. The work itself is
 * not cancelled (a request already sent may still reach its server and finish later); callers whose
 * work must not outlive a term (a lease) choose `ms` so the deadline falls inside it.
 */
export function withDeadline<T>(
  what: string,
  ms: number,
  work: Promise<T>,
  signal?: AbortSignal,
): Promise<T> {
  if (signal?.aborted) {
    work.catch(() => {});
    return Promise.reject(new AbortedError(what));
  }
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DeadlineExceededError(what, ms)), Math.max(0, ms));
    if (signal) {
      onAbort = () => reject(new AbortedError(what));
      signal.addEventListener('abort', onAbort, { once: true });
    }
  });
  // A late rejection of abandoned work is not an unhandled rejection.
  work.catch(() => {});
  return Promise.race([work, limit]).finally(() => {
    clearTimeout(timer);
    if (onAbort) signal?.removeEventListener('abort', onAbort);
  });
}
