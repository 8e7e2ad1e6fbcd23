import type { BillingService } from '../manager/billing/service.ts';
import type { UsageEventOut } from '../operator/metering/sample.ts';
import type { SendResult, UsageSink } from '../operator/metering/sender.ts';
import { ApiError } from '../platform/problem.ts';

/**
 * What the components of one `kubeop all` process hand each other instead of going over the network:
 * the manager publishes its usage ingestion here, and the operator's metering sends to it, so the
 * quick start meters and invoices with no token or URL to configure.
 */
export interface InProcessLink {
  usage?: UsageSink;
}

/**
 * The manager's ingestion as a metering sink, with the HTTP contract of sendBatch: a refusal of
 * the batch itself (4xx) is 'rejected', anything else may succeed later and is 'retry'.
 */
export function ingestionSink(billing: BillingService, cluster: string): UsageSink {
  const call = {
    principal: { actor: `in-process:operator/${cluster}`, role: 'metering' as const },
    requestId: 'in-process-metering',
  };
  return async (events: UsageEventOut[]): Promise<SendResult> => {
    try {
      const r = await billing.ingest(call, events);
      return { outcome: 'sent', accepted: r.accepted, duplicates: r.duplicates };
    } catch (err) {
      if (err instanceof ApiError && err.status < 500 && err.status !== 429)
        return { outcome: 'rejected', reason: `${err.status} ${err.code}: ${err.message}` };
      return { outcome: 'retry', reason: (err as Error).message };
    }
  };
}
