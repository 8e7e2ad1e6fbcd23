import type { Queryable } from '../../db/database.ts';

export interface OutboxEntry {
  kind: string;
  name: string;
  namespace?: string;
  operation: 'apply' | 'delete';
  payload?: unknown;
}

/**
 * Records a change for the clusters. Written in the same transaction as the change itself, so a
 * committed change always has its entry and a rolled-back one never does; the dispatcher delivers
 * entries in id order, at least once.
 */
export async function enqueueOutbox(q: Queryable, e: OutboxEntry): Promise<void> {
  await q.query(
    'INSERT INTO outbox (kind, name, namespace, operation, payload) VALUES ($1, $2, $3, $4, $5)',
    [e.kind, e.name, e.namespace ?? null, e.operation, e.payload ?? null],
  );
}
