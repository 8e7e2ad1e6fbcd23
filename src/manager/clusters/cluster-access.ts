import { readFileSync } from 'node:fs';
import { KubeConfig } from '@kubernetes/client-node';
import type { SecretSealer } from '../../kms/columns.ts';
import { encryptedColumns } from '../../kms/registry.ts';
import { KubeClient } from '../../kube/client.ts';
import { ApiError } from '../../platform/problem.ts';
import type { ClusterEndpoint } from './cluster-config.ts';

export const FIELD_MANAGER = 'kubeop-manager';

/** What opening a cluster needs from its row. */
export interface ClusterRef {
  id: string;
  name: string;
  sealedKubeconfig: string | null;
}

export interface OpenedCluster {
  kubeConfig: KubeConfig;
  client: KubeClient;
  /** Server URL and CA, for kubeconfigs handed to members. */
  endpoint: ClusterEndpoint;
}

/**
 * Opens registered clusters: unseals a stored kubeconfig with the KMS, or uses this process's own
 * kubeconfig for the cluster registered from the configuration. The plaintext lives only in the
 * returned KubeConfig, in memory.
 */
export interface ClusterAccess {
  /** Whether this process can store kubeconfigs (a KMS key is configured). */
  readonly canSeal: boolean;
  seal(clusterId: string, kubeconfig: string): Promise<string>;
  /** Throws ApiError 503 when this process cannot open the cluster (no KMS key, no local kubeconfig). */
  open(cluster: ClusterRef): Promise<OpenedCluster>;
  /** Whether open() can succeed here, without opening. */
  canOpen(cluster: ClusterRef): boolean;
}

export function endpointOf(kc: KubeConfig): ClusterEndpoint {
  const c = kc.getCurrentCluster();
  if (!c) throw new Error('kubeconfig has no current cluster');
  const endpoint: ClusterEndpoint = { server: c.server };
  if (c.caData) endpoint.caPem = Buffer.from(c.caData, 'base64').toString('utf8');
  else if (c.caFile) endpoint.caPem = readFileSync(c.caFile, 'utf8');
  if (c.skipTLSVerify) endpoint.insecureSkipTlsVerify = true;
  return endpoint;
}

export function clusterAccess(opts: {
  sealer?: SecretSealer | undefined;
  /** This process's own cluster (KUBEOP_KUBECONFIG, KUBECONFIG or in-cluster), if any. */
  local?: KubeConfig | undefined;
}): ClusterAccess {
  const column = encryptedColumns.clusterKubeconfig;
  const localClient = opts.local ? new KubeClient(opts.local, { fieldManager: FIELD_MANAGER }) : undefined;
  return {
    canSeal: Boolean(opts.sealer),
    async seal(clusterId, kubeconfig) {
      if (!opts.sealer) throw kmsMissing();
      return opts.sealer.seal(column, clusterId, kubeconfig);
    },
    canOpen: (cluster) => (cluster.sealedKubeconfig ? Boolean(opts.sealer) : Boolean(opts.local)),
    async open(cluster) {
      if (!cluster.sealedKubeconfig) {
        if (!opts.local || !localClient)
          throw new ApiError(
            503,
            'KUBEOP_ERR_CLUSTER_UNAVAILABLE',
            `cluster "${cluster.name}" uses the manager's own kubeconfig, which this manager replica does not have`,
          );
        return { kubeConfig: opts.local, client: localClient, endpoint: endpointOf(opts.local) };
      }
      if (!opts.sealer) throw kmsMissing();
      const text = await opts.sealer.openText(column, cluster.id, cluster.sealedKubeconfig);
      const kc = new KubeConfig();
      kc.loadFromString(text);
      return {
        kubeConfig: kc,
        client: new KubeClient(kc, { fieldManager: FIELD_MANAGER }),
        endpoint: endpointOf(kc),
      };
    },
  };
}

/** The problem when this manager cannot seal or open stored kubeconfigs. */
export function kmsMissing(): ApiError {
  return new ApiError(
    503,
    'KUBEOP_ERR_KMS_NOT_CONFIGURED',
    'the manager has no KMS key to protect cluster kubeconfigs; set KUBEOP_KMS_MASTER_KEY (see docs/security/kms.md)',
  );
}

/** The API server's version (`v1.34.1`), within `timeoutMs`; throws with a readable reason. */
export async function serverVersion(client: KubeClient, timeoutMs = 10_000): Promise<string> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs / 1000} s`)), timeoutMs);
  });
  try {
    const v = await Promise.race([client.request<{ gitVersion?: string }>('GET', '/version'), timeout]);
    if (!v?.gitVersion) throw new Error('the server answered /version without a gitVersion');
    return v.gitVersion;
  } finally {
    clearTimeout(timer);
  }
}
