import type { Database } from '../../db/database.ts';
import type { KubeClient } from '../../kube/client.ts';
import type { Logger } from '../../platform/logging.ts';
import type { KubeObject } from '../../schemas/kube-object.ts';

interface PendingEntry {
  id: string;
  kind: string;
  name: string;
  namespace: string | null;
  operation: 'apply' | 'delete';
  payload: KubeObject | null;
}

export interface DispatcherOptions {
  db: Database;
  client: KubeClient;
  logger: Logger;
  /**
   * The cluster lane this dispatcher serves, and the lease holder it runs as (lanes.ts). Without it
   * the dispatcher delivers every entry through one lane (a single-cluster setup and tests).
   */
  lane?: { clusterId: string; holder: string };
  /** Entries taken per batch. */
  batchSize?: number;
  pollMs?: number;
  maxBackoffMs?: number;
}

export interface DispatchResult {
  applied: number;
  deleted: number;
  /** Entries marked delivered without a request, because a later entry for the same object superseded them. */
  coalesced: number;
}

// Advisory lock keys: any constant shared by every manager replica works. A lane's key is this
// constant and a hash of its cluster id (the two-int form of the lock).
const LANE_LOCK = 0x6b75_6264;

/**
 * Delivers the outbox to the cluster, in order, at least once.
 *
 * Contracts:
 * - Entries are taken in id order. Within a batch only the newest entry per object is sent (older
 *   versions of the same object are superseded and marked delivered with it); objects are sent in
 *   the order of their newest entry, so a delete after an apply wins and vice versa.
 * - An entry is marked delivered only after the API server accepted it, in the batch's transaction;
 *   a crash in between re-sends it on restart. Sends are server-side applies and deletes, so a
 *   repeat changes nothing.
 * - One lane per cluster: a lane takes only the entries of its cluster, so a cluster that is down
 *   holds back nobody else's changes.
 * - The batch runs under a transaction-scoped advisory lock on the lane, taken with try, and — for a
 *   cluster lane — only while the replica holds the lane's lease (checked in the same transaction).
 *   Several manager replicas may run; one dispatches a lane at a time, and a replica that dies
 *   releases the lock with its connection and the lease when it expires.
 * - A failed send stops the batch (order is kept), counts an attempt with the error on the entry and
 *   backs off exponentially; the changes stay queued while the cluster is unreachable.
 */
export function createDispatcher(opts: DispatcherOptions) {
  const batchSize = opts.batchSize ?? 100;
  const pollMs = opts.pollMs ?? 500;
  const maxBackoffMs = opts.maxBackoffMs ?? 30_000;
  let stopped = false;
  let wake: (() => void) | undefined;
  let loop: Promise<void> | undefined;

  async function dispatchOnce(): Promise<DispatchResult | undefined> {
    const outcome = await opts.db.transaction(async (tx) => {
      const lane = opts.lane;
      const { rows: lock } = lane
        ? await tx.query<{ ok: boolean }>(
            `SELECT pg_try_advisory_xact_lock($1, hashtext($2)) AND EXISTS (
               SELECT 1 FROM cluster_leases WHERE cluster_id = $2::uuid AND holder = $3 AND expires_at > now()
             ) AS ok`,
            [LANE_LOCK, lane.clusterId, lane.holder],
          )
        : await tx.query<{ ok: boolean }>('SELECT pg_try_advisory_xact_lock($1) AS ok', [LANE_LOCK]);
      if (!lock[0]?.ok) return undefined;
      const { rows } = await tx.query<PendingEntry>(
        `SELECT id::text AS id, kind, name, namespace, operation, payload FROM outbox
         WHERE delivered_at IS NULL${lane ? ' AND cluster_id = $2' : ''} ORDER BY outbox.id LIMIT $1`,
        lane ? [batchSize, lane.clusterId] : [batchSize],
      );
      const result: DispatchResult & { error?: unknown } = { applied: 0, deleted: 0, coalesced: 0 };
      const newest = new Map<string, PendingEntry>();
      for (const e of rows) {
        const key = `${e.kind}/${e.namespace ?? ''}/${e.name}`;
        newest.delete(key); // re-insert so the map order follows the newest entry
        newest.set(key, e);
      }
      const done: string[] = [];
      for (const e of newest.values()) {
        try {
          if (e.operation === 'apply' && e.payload) {
            await opts.client.apply(e.payload);
            result.applied++;
          } else {
            await opts.client.delete({
              apiVersion: 'paas.kubeop.io/v1alpha1',
              kind: e.kind,
              name: e.name,
              ...(e.namespace ? { namespace: e.namespace } : {}),
            });
            result.deleted++;
          }
        } catch (err) {
          // Stop here to keep the order; what was sent is still marked below, in this transaction.
          await tx.query('UPDATE outbox SET attempts = attempts + 1, last_error = $2 WHERE id = $1', [
            e.id,
            String((err as Error).message).slice(0, 1000),
          ]);
          result.error = err;
          break;
        }
        // Everything for this object up to its newest entry is delivered (older ones superseded).
        const same = rows.filter(
          (r) => r.kind === e.kind && r.name === e.name && r.namespace === e.namespace,
        );
        result.coalesced += same.length - 1;
        done.push(...same.map((r) => r.id));
      }
      if (done.length)
        await tx.query('UPDATE outbox SET delivered_at = now() WHERE id = ANY($1::bigint[])', [done]);
      return result;
    });
    if (outcome?.error) throw outcome.error;
    return outcome;
  }

  async function run(): Promise<void> {
    let backoff = 0;
    while (!stopped) {
      let more = false;
      try {
        const r = await dispatchOnce();
        if (r && r.applied + r.deleted > 0) opts.logger.debug(r, 'outbox delivered');
        more = Boolean(r && r.applied + r.deleted + r.coalesced >= batchSize);
        backoff = 0;
      } catch (err) {
        backoff = Math.min(maxBackoffMs, backoff ? backoff * 2 : 500);
        opts.logger.warn(
          { err: { message: (err as Error).message }, retryInMs: backoff },
          'outbox delivery failed; will retry',
        );
      }
      if (more && !backoff) continue;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, backoff || pollMs);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }

  return {
    dispatchOnce,
    start() {
      loop ??= run();
    },
    /** Delivers sooner than the next poll (after a local change). */
    nudge() {
      wake?.();
    },
    async stop() {
      stopped = true;
      wake?.();
      await loop;
    },
    async pending(): Promise<number> {
      const { rows } = await opts.db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM outbox WHERE delivered_at IS NULL${opts.lane ? ' AND cluster_id = $1' : ''}`,
        opts.lane ? [opts.lane.clusterId] : [],
      );
      return rows[0]?.n ?? 0;
    },
  };
}

export type Dispatcher = ReturnType<typeof createDispatcher>;
