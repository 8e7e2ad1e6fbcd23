import { SourceError } from '../../../delivery/source.ts';

/**
 * Why the desired revision of an App cannot be delivered: a source failure (SourceError, with its
 * stable reasons) or a refusal by the API server (`ForbiddenObject`, `InvalidManifests`,
 * `QuotaExceeded`), or a rollback target that is gone (`RevisionNotFound`). The reason becomes the
 * App's Degraded condition reason; the message is shown to tenants and never holds a secret.
 */
export class DeliveryFailure extends Error {
  readonly reason: string;
  readonly retryable: boolean;
  constructor(reason: string, message: string, opts: { retryable?: boolean; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'DeliveryFailure';
    this.reason = reason;
    this.retryable = opts.retryable ?? false;
  }
}

/** The failure an error stands for, or undefined for errors that are not about the App (retried). */
export function failureOf(err: unknown): DeliveryFailure | undefined {
  if (err instanceof DeliveryFailure) return err;
  if (err instanceof SourceError) {
    return new DeliveryFailure(err.reason, err.message, { retryable: err.retryable, cause: err });
  }
  return undefined;
}
