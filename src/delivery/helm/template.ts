import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KubeObject } from '../../schemas/kube-object.ts';
import { runHelm } from './exec.ts';
import { parseManifests } from './manifests.ts';

export interface HelmTemplateOptions {
  helmBinary: string;
  /** A chart directory or packaged `.tgz`. */
  chartPath: string;
  releaseName: string;
  namespace: string;
  /** Merged values; written to a private temp file, never on the command line. */
  values?: Record<string, unknown>;
  timeoutMs?: number;
  /** `.Capabilities.KubeVersion` seen by templates, e.g. `v1.37.2`. */
  kubeVersion?: string;
  /** Extra `.Capabilities.APIVersions` (e.g. `gateway.networking.k8s.io/v1`). */
  apiVersions?: string[];
  /** Values that must never appear in an error message (e.g. data read from Secrets). */
  secrets?: string[];
  signal?: AbortSignal;
}

export const DEFAULT_TEMPLATE_TIMEOUT_MS = 60_000;

/**
 * Renders a chart with `helm template` (the Argo CD model): no cluster is contacted, so `lookup`
 * returns an empty result; hooks are left out (`--no-hooks`, which also drops test hooks) and so are
 * the chart's `crds/` directory (helm template's default), because a project may own neither
 * one-shot hook objects nor cluster-scoped CRDs. See docs/concepts/delivery-helm.md.
 * Failures are SourceErrors: RenderFailed with helm's trimmed stderr, InvalidManifests when the
 * output is not Kubernetes objects.
 */
export async function helmTemplate(opts: HelmTemplateOptions): Promise<KubeObject[]> {
  const dir = await mkdtemp(join(tmpdir(), 'kubeop-helm-values-'));
  try {
    const valuesFile = join(dir, 'values.yaml');
    // JSON is YAML; mode 0600 because values may hold data read from Secrets.
    await writeFile(valuesFile, JSON.stringify(opts.values ?? {}), { mode: 0o600 });
    const args = [
      'template',
      opts.releaseName,
      opts.chartPath,
      '--namespace',
      opts.namespace,
      '--values',
      valuesFile,
      '--no-hooks',
      '--skip-tests',
    ];
    if (opts.kubeVersion) args.push('--kube-version', opts.kubeVersion);
    for (const v of opts.apiVersions ?? []) args.push('--api-versions', v);
    const stdout = await runHelm({
      helmBinary: opts.helmBinary,
      args,
      timeoutMs: opts.timeoutMs ?? DEFAULT_TEMPLATE_TIMEOUT_MS,
      what: 'helm template',
      failureReason: 'RenderFailed',
      ...(opts.secrets ? { secrets: opts.secrets } : {}),
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
    return parseManifests(stdout, 'the rendered chart');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
