import type { Database } from '../../db/database.ts';
import type { KubeClient } from '../../kube/client.ts';
import { withDeadline } from '../../platform/deadline.ts';
import type { KubeObject } from '../../schemas/kube-object.ts';

const API = 'paas.kubeop.io/v1alpha1';
const selector = 'app.kubernetes.io/managed-by=kubeop-manager';

/**
 * Which cluster a status read comes from. Projects and apps take their status from the cluster
 * they are placed on; a Tenant exists on every cluster with its projects, and the API shows the
 * default cluster's view of it.
 */
export interface SyncScope {
  clusterId: string;
  isDefault: boolean;
}

/**
 * Reads the status of the custom resources the manager delivered and stores it with the resource,
 * so the API shows real state (phase, conditions, URL). Only changed statuses are written; the
 * spec's version (the ETag) does not move. Contract: idempotent, safe to run from any replica.
 * Without a scope every project and app is matched by name (a single-cluster setup).
 */
export async function syncStatus(
  db: Database,
  client: KubeClient,
  scope?: SyncScope,
  limits: { timeoutMs?: number; signal?: AbortSignal } = {},
): Promise<number> {
  // Each read has a deadline and no transaction is open while it runs: the writes below are
  // single statements made after the read returned.
  const list = (kind: string) =>
    withDeadline(
      `list ${kind}`,
      limits.timeoutMs ?? 10_000,
      client.list<KubeObject>(API, kind, { labelSelector: selector }),
      limits.signal,
    );
  let changed = 0;
  const placedParam = scope ? [scope.clusterId] : [];
  if (!scope || scope.isDefault) {
    for (const t of await list('Tenant')) {
      const { rowCount } = await db.query(
        'UPDATE tenants SET status = $2 WHERE name = $1 AND status IS DISTINCT FROM $2::jsonb',
        [t.metadata.name, JSON.stringify(t.status ?? null)],
      );
      changed += rowCount;
    }
  }
  for (const p of await list('Project')) {
    // Only the project's own tenant's: a same-named Project of another tenant (made behind this
    // manager's back) must never pass for this one. $3 is the tenant, so the placement is $4 here.
    const tenant = (p.spec as { tenantRef?: { name?: string } } | undefined)?.tenantRef?.name ?? '';
    const { rowCount } = await db.query(
      `UPDATE projects SET status = $2 WHERE name = $1
       AND tenant_id = (SELECT id FROM tenants WHERE name = $3)${scope ? ' AND cluster_id = $4' : ''}
       AND status IS DISTINCT FROM $2::jsonb`,
      [p.metadata.name, JSON.stringify(p.status ?? null), tenant, ...placedParam],
    );
    changed += rowCount;
  }
  for (const a of await list('App')) {
    // An App lives in its project's namespace, which the project's status names.
    const { rowCount } = await db.query(
      `UPDATE apps SET status = $3 FROM projects p WHERE apps.project_id = p.id AND apps.name = $1
       AND p.status->>'namespace' = $2${scope ? ' AND p.cluster_id = $4' : ''}
       AND apps.status IS DISTINCT FROM $3::jsonb`,
      [a.metadata.name, a.metadata.namespace, JSON.stringify(a.status ?? null), ...placedParam],
    );
    changed += rowCount;
  }
  return changed;
}
