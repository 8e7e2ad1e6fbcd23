import type { KubeClient } from '../../src/kube/client.ts';
import type { KubeObject } from '../../src/schemas/kube-object.ts';

/**
 * Deletes the Tenant `tenant` and its Projects (named `<tenant>-…`) that a manager suite delivered
 * without an operator running (so without finalizers). Best effort: cleanup never fails a suite.
 */
export async function removeCrs(cluster: KubeClient | undefined, tenant: string): Promise<void> {
  if (!cluster) return;
  const api = 'paas.kubeop.io/v1alpha1';
  try {
    const projects = await cluster.list<KubeObject>(api, 'Project', {
      labelSelector: 'app.kubernetes.io/managed-by=kubeop-manager',
    });
    for (const p of projects.filter((x) => x.metadata.name.startsWith(`${tenant}-`)))
      await cluster.delete({ apiVersion: api, kind: 'Project', name: p.metadata.name });
    await cluster.delete({ apiVersion: api, kind: 'Tenant', name: tenant });
  } catch {
    // best effort
  }
}
