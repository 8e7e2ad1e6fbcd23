import type { UsageEventOut } from './sample.ts';

export type SendResult =
  | { outcome: 'sent'; accepted: number; duplicates: number }
  | { outcome: 'retry'; reason: string }
  | { outcome: 'rejected'; reason: string };

/** Where metering delivers a batch: the manager over HTTP, or in-process under `kubeop all`. */
export type UsageSink = (events: UsageEventOut[]) => Promise<SendResult>;

/** The manager's ingestion API at `managerUrl`, authenticated with a metering token. */
export function httpSink(managerUrl: string, token: string): UsageSink {
  return (events) => sendBatch(managerUrl, token, events);
}

/**
 * POSTs one batch to the manager's ingestion API. Contract: 'sent' when the manager stored it (new
 * or duplicate); 'retry' when it may succeed later (unreachable, timeout, 5xx, 429, or an
 * authentication problem an operator can fix); 'rejected' when the manager refused the batch itself
 * (4xx validation), which a retry would only repeat. The token never appears in a reason.
 */
export async function sendBatch(
  managerUrl: string,
  token: string,
  events: UsageEventOut[],
  timeoutMs = 10_000,
): Promise<SendResult> {
  let res: Response;
  try {
    res = await fetch(new URL('/v1/usage/events', managerUrl), {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ events }),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (err) {
    return { outcome: 'retry', reason: `manager unreachable: ${(err as Error).message}` };
  }
  const text = await res.text();
  if (res.ok) {
    const body = JSON.parse(text) as { accepted: number; duplicates: number };
    return { outcome: 'sent', accepted: body.accepted, duplicates: body.duplicates };
  }
  let code = '';
  try {
    code = (JSON.parse(text) as { code?: string }).code ?? '';
  } catch {
    // not a problem document
  }
  const reason = `manager answered ${res.status}${code ? ` ${code}` : ''}`;
  if (res.status >= 500 || res.status === 429 || res.status === 401 || res.status === 403)
    return { outcome: 'retry', reason };
  return { outcome: 'rejected', reason };
}
