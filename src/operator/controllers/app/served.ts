import { isNotFound, type KubeClient } from '../../../kube/client.ts';
import { resourceType } from '../../../kube/resources.ts';

/**
 * Whether the API server serves a kind (discovery of its group version). Used once at start for
 * kinds that come from CRDs (Gateway API, cert-manager): a cache of a kind that is not served would
 * never sync and would hold the operator's readiness back.
 */
export async function served(client: KubeClient, apiVersion: string, kind: string): Promise<boolean> {
  const path = apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
  try {
    const list = await client.request<{ resources?: Array<{ name: string }> }>('GET', path);
    const plural = resourceType(apiVersion, kind).plural;
    return (list.resources ?? []).some((r) => r.name === plural);
  } catch (err) {
    if (isNotFound(err)) return false;
    throw err;
  }
}
