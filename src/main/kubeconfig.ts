import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';

/**
 * The cluster to work on: KUBEOP_KUBECONFIG, else KUBECONFIG, else ~/.kube/config, else the
 * in-cluster service account. Undefined when none of them exists (no cluster configured).
 */
export function loadKubeConfig(
  explicit: string | undefined,
  env: Record<string, string | undefined>,
): KubeConfig | undefined {
  const kc = new KubeConfig();
  const file = explicit ?? env.KUBECONFIG ?? join(homedir(), '.kube', 'config');
  if (existsSync(file)) {
    kc.loadFromFile(file);
    return kc;
  }
  if (explicit) throw new Error(`KUBEOP_KUBECONFIG=${explicit} does not exist`);
  if (env.KUBERNETES_SERVICE_HOST) {
    kc.loadFromCluster();
    return kc;
  }
  return undefined;
}
