/**
 * A reconcile failure that retrying cannot fix (an invalid spec, a reference to something that will
 * never exist). The controller logs it and forgets the key instead of backing off; the key is
 * reconciled again only when something enqueues it anew (a watch event, a resync). Every other error
 * is treated as transient and retried with backoff.
 */
export class TerminalError extends Error {
  /** Short CamelCase reason, suitable for a status condition (`InvalidSpec`). */
  readonly reason: string;
  constructor(reason: string, message: string, opts: { cause?: unknown } = {}) {
    super(message, { cause: opts.cause });
    this.name = 'TerminalError';
    this.reason = reason;
  }
}
