import { SourceError } from '../source.ts';
import { formatDuration } from './exec.ts';
import { redact } from './redact.ts';

export interface FetchLimits {
  timeoutMs: number;
  maxBytes: number;
  signal?: AbortSignal;
  /** What is fetched, for messages: "the chart repository index". */
  what: string;
  /** An Authorization header value; never shown in messages. */
  authorization?: string | undefined;
}

/**
 * GETs a URL into memory with a deadline and a size cap, mapping every failure to a SourceError that
 * says what to fix: network errors and timeouts are SourceUnreachable (retried), an oversized body is
 * SourceTooLarge. The URL in messages has any credentials removed.
 */
export async function fetchBytes(url: string, limits: FetchLimits): Promise<Buffer> {
  const shown = redact(url);
  const protocol = new URL(url).protocol;
  if (protocol !== 'http:' && protocol !== 'https:') {
    throw new SourceError('SourceUnreachable', `${limits.what} ${shown} is not an http(s) URL`, {
      retryable: false,
    });
  }
  const timeout = AbortSignal.timeout(limits.timeoutMs);
  const signal = limits.signal ? AbortSignal.any([limits.signal, timeout]) : timeout;
  let res: Response;
  try {
    const headers: Record<string, string> = { accept: '*/*' };
    if (limits.authorization) headers.authorization = limits.authorization;
    res = await fetch(url, { signal, redirect: 'follow', headers });
  } catch (err) {
    throw networkError(err, shown, limits, timeout);
  }
  if (!res.ok) {
    await res.body?.cancel().catch(() => undefined);
    throw httpError(res.status, shown, limits.what, limits.authorization !== undefined);
  }
  const declared = Number(res.headers.get('content-length') ?? '0');
  if (declared > limits.maxBytes) {
    await res.body?.cancel().catch(() => undefined);
    throw tooLarge(shown, limits);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of res.body ?? []) {
      size += chunk.byteLength;
      if (size > limits.maxBytes) {
        await res.body?.cancel().catch(() => undefined);
        throw tooLarge(shown, limits);
      }
      chunks.push(Buffer.from(chunk));
    }
  } catch (err) {
    if (err instanceof SourceError) throw err;
    throw networkError(err, shown, limits, timeout);
  }
  return Buffer.concat(chunks);
}

function tooLarge(shown: string, limits: FetchLimits): SourceError {
  return new SourceError(
    'SourceTooLarge',
    `${limits.what} ${shown} is larger than ${formatBytes(limits.maxBytes)}`,
  );
}

function networkError(err: unknown, shown: string, limits: FetchLimits, timeout: AbortSignal): SourceError {
  if (timeout.aborted) {
    return new SourceError(
      'SourceUnreachable',
      `${limits.what} ${shown} did not answer within ${formatDuration(limits.timeoutMs)}`,
    );
  }
  if (limits.signal?.aborted) return new SourceError('SourceUnreachable', `fetching ${shown} was cancelled`);
  const cause = (err as { cause?: { code?: string } } | undefined)?.cause;
  const code = cause?.code ? ` (${cause.code})` : '';
  return new SourceError(
    'SourceUnreachable',
    `${limits.what} ${shown} is unreachable${code}: check source.helm.repoURL and that the server is up`,
    { cause: err },
  );
}

function httpError(status: number, shown: string, what: string, sentCredentials: boolean): SourceError {
  if (status === 401 || status === 403) {
    return new SourceError(
      'SourceUnreachable',
      sentCredentials
        ? `${what} ${shown} answered ${status}: it refused the credentials; check the Secret named by source.helm.credentialsSecretName`
        : `${what} ${shown} answered ${status}: the repository requires credentials; set source.helm.credentialsSecretName to a Secret with username and password`,
      { retryable: false },
    );
  }
  if (status === 404 || status === 410) {
    return new SourceError(
      'SourceUnreachable',
      `${what} ${shown} answered ${status} (not found): check source.helm.repoURL`,
      { retryable: false },
    );
  }
  return new SourceError('SourceUnreachable', `${what} ${shown} answered HTTP ${status}`);
}

function formatBytes(n: number): string {
  if (n >= 1024 * 1024) return `${Math.round(n / 1024 / 1024)} MiB`;
  return n >= 1024 ? `${Math.round(n / 1024)} KiB` : `${n} bytes`;
}
