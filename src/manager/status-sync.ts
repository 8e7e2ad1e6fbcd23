import type { Database } from '../db/database.ts';
import type { KubeClient } from '../kube/client.ts';
import type { KubeObject } from '../schemas/kube-object.ts';

const API = 'paas.kubeop.io/v1alpha1';

/**
 * Reads the status of the custom resources the manager delivered and stores it with the resource,
 * so the API shows real state (phase, conditions, URL). Only changed statuses are written; the
 * spec's version (the ETag) does not move. Contract: idempotent, safe to run from any replica.
 */
export async function syncStatus(db: Database, client: KubeClient): Promise<number> {
  const selector = 'app.kubernetes.io/managed-by=kubeop-manager';
  let changed = 0;
  const write = async (table: string, name: string, status: unknown, where = '') => {
    const { rowCount } = await db.query(
      `UPDATE ${table} SET status = $2 WHERE name = $1${where} AND status IS DISTINCT FROM $2::jsonb`,
      [name, JSON.stringify(status ?? null)],
    );
    changed += rowCount;
  };
  for (const t of await client.list<KubeObject>(API, 'Tenant', { labelSelector: selector })) {
    await write('tenants', t.metadata.name, t.status);
  }
  for (const p of await client.list<KubeObject>(API, 'Project', { labelSelector: selector })) {
    await write('projects', p.metadata.name, p.status);
  }
  for (const a of await client.list<KubeObject>(API, 'App', { labelSelector: selector })) {
    // An App lives in its project's namespace, which the project's status names.
    await db
      .query(
        `UPDATE apps SET status = $3 FROM projects p WHERE apps.project_id = p.id AND apps.name = $1
         AND p.status->>'namespace' = $2 AND apps.status IS DISTINCT FROM $3::jsonb`,
        [a.metadata.name, a.metadata.namespace, JSON.stringify(a.status ?? null)],
      )
      .then((r) => (changed += r.rowCount));
  }
  return changed;
}
