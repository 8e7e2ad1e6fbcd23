import { SourceError } from '../source.ts';
import type { ChartCache, CachedChart } from './cache.ts';
import { sha256 } from './cache.ts';
import { basicAuth, credentialsKey, type RepoCredentials } from './credentials.ts';
import { fetchBytes } from './http.ts';
import { chartDownloadUrl, isExactVersion, parseIndex, pickChartVersion } from './index-file.ts';
import { redact } from './redact.ts';

export interface RepositoryOptions {
  cache: ChartCache;
  timeoutMs: number;
  /** index.yaml of big public repositories reaches tens of MiB. */
  maxIndexBytes?: number;
  maxChartBytes?: number;
}

export const DEFAULT_MAX_INDEX_BYTES = 64 * 1024 * 1024;
export const DEFAULT_MAX_CHART_BYTES = 16 * 1024 * 1024;

/**
 * Gets a chart from an HTTP(S) chart repository: reads index.yaml, resolves the version constraint to
 * the highest matching version, downloads the package and checks it against the digest the index
 * publishes. An exact version already in the cache needs no network at all.
 */
export async function fetchRepositoryChart(
  opts: RepositoryOptions,
  req: {
    repoURL: string;
    chart: string;
    version?: string | undefined;
    credentials?: RepoCredentials | undefined;
    signal?: AbortSignal | undefined;
  },
): Promise<CachedChart> {
  const repoURL = req.repoURL.replace(/\/+$/, '');
  const origin = `${repoURL}#${credentialsKey(req.credentials)}`;
  const authorization = req.credentials ? basicAuth(req.credentials) : undefined;
  if (isExactVersion(req.version)) {
    const hit = await opts.cache.get(origin, req.chart, (req.version ?? '').trim());
    if (hit) return hit;
  }
  const indexUrl = `${repoURL}/index.yaml`;
  const shownIndex = redact(indexUrl);
  const indexText = await fetchBytes(indexUrl, {
    what: 'the chart repository index',
    authorization,
    timeoutMs: opts.timeoutMs,
    maxBytes: opts.maxIndexBytes ?? DEFAULT_MAX_INDEX_BYTES,
    ...(req.signal ? { signal: req.signal } : {}),
  });
  const index = parseIndex(indexText.toString('utf8'), shownIndex);
  const entry = pickChartVersion(index, req.chart, req.version, shownIndex);
  const cached = await opts.cache.get(origin, entry.name, entry.version);
  if (cached && (!entry.digest || cached.digest === entry.digest)) return cached;

  const url = chartDownloadUrl(repoURL, entry);
  const data = await fetchBytes(url, {
    what: `the package of chart ${entry.name}@${entry.version}`,
    // Like helm without --pass-credentials: credentials go only to the repository's own host.
    authorization: new URL(url).origin === new URL(repoURL).origin ? authorization : undefined,
    timeoutMs: opts.timeoutMs,
    maxBytes: opts.maxChartBytes ?? DEFAULT_MAX_CHART_BYTES,
    ...(req.signal ? { signal: req.signal } : {}),
  });
  if (entry.digest && sha256(data) !== entry.digest) {
    throw new SourceError(
      'SourceUnreachable',
      `the package of chart ${entry.name}@${entry.version} (${redact(url)}) does not match the digest in ${shownIndex}; the repository is being updated or was tampered with`,
    );
  }
  return opts.cache.put(origin, entry.name, entry.version, data);
}
