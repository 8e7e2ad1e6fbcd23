import type { Queryable } from '../../db/database.ts';

export interface OutboxEntry {
  kind: string;
  name: string;
  namespace?: string;
  operation: 'apply' | 'delete';
  payload?: unknown;
  /** The cluster whose lane delivers it; null while no cluster is registered (adopted later). */
  clusterId?: string | null;
}

/**
 * Records a change for the clusters. Written in the same transaction as the change itself, so a
 * committed change always has its entry and a rolled-back one never does; the dispatcher delivers
 * entries in id order, at least once.
 */
export async function enqueueOutbox(q: Queryable, e: OutboxEntry): Promise<void> {
  await q.query(
    'INSERT INTO outbox (kind, name, namespace, operation, payload, cluster_id) VALUES ($1, $2, $3, $4, $5, $6)',
    [e.kind, e.name, e.namespace ?? null, e.operation, e.payload ?? null, e.clusterId ?? null],
  );
}

/**
 * Records a change for every registered cluster (a Tenant exists on each cluster that hosts its
 * projects; sending it to all keeps them equal), or one unplaced entry when there is no cluster yet.
 */
export async function enqueueEverywhere(q: Queryable, e: Omit<OutboxEntry, 'clusterId'>): Promise<void> {
  const { rowCount } = await q.query(
    `INSERT INTO outbox (kind, name, namespace, operation, payload, cluster_id)
     SELECT $1, $2, $3, $4, $5::jsonb, c.id FROM clusters c ORDER BY c.name`,
    [
      e.kind,
      e.name,
      e.namespace ?? null,
      e.operation,
      e.payload === undefined ? null : JSON.stringify(e.payload),
    ],
  );
  if (rowCount === 0) await enqueueOutbox(q, e);
}
