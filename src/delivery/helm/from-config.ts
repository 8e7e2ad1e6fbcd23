import type { KubeConfig } from '@kubernetes/client-node';
import { KubeClient } from '../../kube/client.ts';
import type { Config } from '../../platform/config.ts';
import type { Source } from '../source.ts';
import { helmSource } from './source.ts';

/**
 * The helm source as the KUBEOP_HELM_* settings describe it. With a cluster connection, charts see
 * the cluster's Kubernetes version as `.Capabilities.KubeVersion` (helm's compiled-in default is
 * old enough that charts declaring a `kubeVersion` would refuse to render).
 */
export function helmSourceFromConfig(config: Config, kc?: KubeConfig): Source {
  return helmSource({
    helmBinary: config.KUBEOP_HELM_BINARY,
    cacheDir: config.KUBEOP_HELM_CACHE_DIR,
    timeoutMs: config.KUBEOP_HELM_TIMEOUT_SECONDS * 1000,
    ...(kc ? { kubeVersion: () => clusterKubeVersion(kc) } : {}),
  });
}

/** `vMAJOR.MINOR.PATCH` of the API server; vendor suffixes (`-eks-…`) would read as a pre-release. */
export async function clusterKubeVersion(kc: KubeConfig): Promise<string | undefined> {
  const client = new KubeClient(kc, { fieldManager: 'kubeop-operator' });
  const info = await client.request<{ gitVersion?: string }>('GET', '/version');
  return normalizeKubeVersion(info?.gitVersion);
}

export function normalizeKubeVersion(gitVersion: string | undefined): string | undefined {
  const m = /^v?(\d+)\.(\d+)\.(\d+)/.exec(gitVersion ?? '');
  return m ? `v${m[1]}.${m[2]}.${m[3]}` : undefined;
}
