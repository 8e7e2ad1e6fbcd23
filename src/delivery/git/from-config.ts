import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Config } from '../../platform/config.ts';
import { helmTemplate } from '../helm/template.ts';
import type { Source } from '../source.ts';
import { gitSource } from './source.ts';

/** The git source as the KUBEOP_GIT_* (and KUBEOP_HELM_BINARY, for charts in repositories) settings describe it. */
export function gitSourceFromConfig(config: Config, env: Record<string, string | undefined>): Source {
  const timeoutMs = config.KUBEOP_GIT_TIMEOUT_SECONDS * 1000;
  return gitSource({
    gitBinary: config.KUBEOP_GIT_BINARY,
    kubectlBinary: config.KUBEOP_KUBECTL_BINARY,
    cacheDir: config.KUBEOP_GIT_CACHE_DIR ?? join(tmpdir(), 'kubeop-git-cache'),
    timeoutMs,
    maxRepoBytes: config.KUBEOP_GIT_MAX_REPO_MB * 1024 * 1024,
    env,
    helmTemplate: ({ chartDir, releaseName, namespace, signal }) =>
      helmTemplate({
        helmBinary: config.KUBEOP_HELM_BINARY,
        chartPath: chartDir,
        releaseName,
        namespace,
        timeoutMs,
        ...(signal ? { signal } : {}),
      }),
  });
}
