import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SourceError, type Rendered, type Source, type SourceContext } from '../source.ts';
import { ChartCache, type CachedChart } from './cache.ts';
import { pullOciChart } from './oci.ts';
import { fetchRepositoryChart } from './repository.ts';
import type { HelmSourceSpec } from './spec.ts';
import { helmTemplate } from './template.ts';
import { collectValues } from './values.ts';
import { readCredentials, type RepoCredentials } from './credentials.ts';

export interface HelmSourceOptions {
  /** KUBEOP_HELM_BINARY. */
  helmBinary: string;
  /** KUBEOP_HELM_CACHE_DIR; default `kubeop-helm-cache` under the system temp directory. */
  cacheDir?: string | undefined;
  /** KUBEOP_HELM_TIMEOUT_SECONDS × 1000: each download, pull and `helm template` run. */
  timeoutMs: number;
  /**
   * `.Capabilities.KubeVersion` for charts that check it: a version, or how to ask the cluster (asked
   * once successfully, then remembered). Unknown: helm's built-in default.
   */
  kubeVersion?: string | (() => Promise<string | undefined>);
  maxIndexBytes?: number;
  maxChartBytes?: number;
}

/**
 * Helm Apps (`spec.source.helm`): the chart comes from an HTTP(S) repository or an OCI registry,
 * values from `valuesFrom` then `values`, and `helm template` renders it with the App's name as the
 * release name. The revision is `<chart>@<version>`, the version the constraint resolved to.
 */
export function helmSource(opts: HelmSourceOptions): Source {
  const cache = new ChartCache(opts.cacheDir ?? join(tmpdir(), 'kubeop-helm-cache'));
  let kubeVersion = typeof opts.kubeVersion === 'string' ? opts.kubeVersion : undefined;
  const resolveKubeVersion = async (): Promise<string | undefined> => {
    if (kubeVersion || typeof opts.kubeVersion !== 'function') return kubeVersion;
    // A failed lookup is not fatal: render with helm's default and ask again next time.
    kubeVersion = await opts.kubeVersion().catch(() => undefined);
    return kubeVersion;
  };
  return {
    async render(ctx: SourceContext): Promise<Rendered> {
      const spec = ctx.app.spec.source.helm;
      if (!spec) throw new SourceError('RenderFailed', 'the App has no spec.source.helm');
      const { values, secrets } = await collectValues(spec, ctx);
      const credentials = await readCredentials(spec, ctx);
      if (credentials) secrets.push(credentials.password);
      const chart = await fetchChart(spec, credentials, ctx.signal);
      const capabilitiesVersion = await resolveKubeVersion();
      const objects = await helmTemplate({
        helmBinary: opts.helmBinary,
        chartPath: chart.path,
        releaseName: ctx.app.metadata.name,
        namespace: ctx.namespace,
        values,
        secrets,
        timeoutMs: opts.timeoutMs,
        ...(capabilitiesVersion ? { kubeVersion: capabilitiesVersion } : {}),
        ...(ctx.signal ? { signal: ctx.signal } : {}),
      });
      return { objects, sourceRevision: `${chart.name}@${chart.version}` };
    },
  };

  function fetchChart(
    spec: HelmSourceSpec,
    credentials: RepoCredentials | undefined,
    signal: AbortSignal | undefined,
  ): Promise<CachedChart> {
    const version = spec.version?.trim() || undefined;
    if (spec.chart.startsWith('oci://') || spec.repoURL?.startsWith('oci://')) {
      return pullOciChart(
        { helmBinary: opts.helmBinary, cache, timeoutMs: opts.timeoutMs },
        { chart: spec.chart, repoURL: spec.repoURL, version, credentials, signal },
      );
    }
    if (!spec.repoURL) {
      throw new SourceError(
        'RevisionNotFound',
        'set source.helm.repoURL (https:// or oci://), or give source.helm.chart as a full oci:// reference',
        { retryable: false },
      );
    }
    return fetchRepositoryChart(
      {
        cache,
        timeoutMs: opts.timeoutMs,
        ...(opts.maxIndexBytes ? { maxIndexBytes: opts.maxIndexBytes } : {}),
        ...(opts.maxChartBytes ? { maxChartBytes: opts.maxChartBytes } : {}),
      },
      { repoURL: spec.repoURL, chart: spec.chart, version, credentials, signal },
    );
  }
}
