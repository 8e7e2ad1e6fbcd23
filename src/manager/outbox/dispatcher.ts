import type { Database } from '../../db/database.ts';
import type { KubeClient } from '../../kube/client.ts';
import { AbortedError, withDeadline } from '../../platform/deadline.ts';
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
  /** Deadline of one request to the cluster (default 10 s). */
  requestTimeoutMs?: number;
  /** A lane's sends end this long before the lease they were claimed under expires (default 1 s). */
  leaseMarginMs?: number;
}

export interface DispatchResult {
  applied: number;
  deleted: number;
  /** Entries marked delivered without a request, because a later entry for the same object superseded them. */
  coalesced: number;
}

// Advisory lock key of the single-lane mode: any constant shared by every manager replica works.
const LANE_LOCK = 0x6b75_6264;

/**
 * Delivers the outbox to the cluster, in order, at least once.
 *
 * Contracts:
 * - Entries are taken in id order. Within a batch only the newest entry per object is sent (older
 *   versions of the same object are superseded and marked delivered with it); objects are sent in
 *   the order of their newest entry, so a delete after an apply wins and vice versa.
 * - No network I/O inside a database transaction. A batch is claimed in one short transaction
 *   (lease check and read), sent with no transaction open, and its outcome recorded in a second
 *   one. So a cluster that accepts connections and never answers holds no connection and no lock:
 *   on embedded PGlite (one connection for everything) the API keeps its normal latency.
 * - An entry is marked delivered only after the API server accepted it; a crash between the send
 *   and the record re-sends it on restart. Sends are server-side applies and deletes, so a repeat
 *   changes nothing.
 * - Every send has a deadline (`requestTimeoutMs`), and for a cluster lane the batch's sends also
 *   end `leaseMarginMs` before the lease it was claimed under expires: an entry that cannot be
 *   sent in time stays for the next batch. Another replica takes a lane over only once that lease
 *   has expired, so two replicas never have sends of one lane in flight at the same time (short of
 *   a request the API server is still processing after we gave up on it).
 * - One lane per cluster: a lane takes only the entries of its cluster, so a cluster that is down
 *   holds back nobody else's changes. A cluster lane is claimed only while the replica holds the
 *   lane's lease (checked in the claim transaction). Without a lane (tests, a single cluster) the
 *   claim takes a try-lock, and one dispatcher per database is assumed.
 * - A failed send stops the batch (order is kept), counts an attempt with the error on the entry and
 *   backs off exponentially; the changes stay queued while the cluster is unreachable. A batch that
 *   delivered something before failing restarts the backoff at its base.
 */
export function createDispatcher(opts: DispatcherOptions) {
  const batchSize = opts.batchSize ?? 100;
  const pollMs = opts.pollMs ?? 500;
  const maxBackoffMs = opts.maxBackoffMs ?? 30_000;
  const requestTimeoutMs = opts.requestTimeoutMs ?? 10_000;
  const leaseMarginMs = opts.leaseMarginMs ?? 1_000;
  const stopping = new AbortController();
  let stopped = false;
  let wake: (() => void) | undefined;
  let loop: Promise<void> | undefined;
  /** Whether the last batch delivered anything (read by the backoff after a failed batch). */
  let lastProgress = false;

  /** The first transaction: may we send, until when, and what. No I/O to the cluster here. */
  async function claim(): Promise<{ rows: PendingEntry[]; deadline: number } | undefined> {
    return opts.db.transaction(async (tx) => {
      const lane = opts.lane;
      const { rows: lock } = lane
        ? await tx.query<{ remaining_ms: number | null }>(
            `SELECT floor(extract(epoch FROM expires_at - now()) * 1000)::float8 AS remaining_ms
             FROM cluster_leases WHERE cluster_id = $1::uuid AND holder = $2 AND expires_at > now()`,
            [lane.clusterId, lane.holder],
          )
        : await tx.query<{ remaining_ms: number | null }>(
            'SELECT CASE WHEN pg_try_advisory_xact_lock($1) THEN NULL ELSE -1 END::float8 AS remaining_ms',
            [LANE_LOCK],
          );
      const row = lock[0];
      if (!row || (row.remaining_ms !== null && row.remaining_ms <= leaseMarginMs)) return undefined;
      const { rows } = await tx.query<PendingEntry>(
        `SELECT id::text AS id, kind, name, namespace, operation, payload FROM outbox
         WHERE delivered_at IS NULL${lane ? ' AND cluster_id = $2' : ''} ORDER BY outbox.id LIMIT $1`,
        lane ? [batchSize, lane.clusterId] : [batchSize],
      );
      const deadline =
        performance.now() + (row.remaining_ms === null ? Infinity : row.remaining_ms - leaseMarginMs);
      return { rows, deadline };
    });
  }

  async function dispatchOnce(): Promise<DispatchResult | undefined> {
    lastProgress = false;
    const claimed = await claim();
    if (!claimed) return undefined;
    const { rows, deadline } = claimed;
    const result: DispatchResult = { applied: 0, deleted: 0, coalesced: 0 };
    const newest = new Map<string, PendingEntry>();
    for (const e of rows) {
      const key = `${e.kind}/${e.namespace ?? ''}/${e.name}`;
      newest.delete(key); // re-insert so the map order follows the newest entry
      newest.set(key, e);
    }
    const done: string[] = [];
    let failed: { entry: PendingEntry; err: unknown } | undefined;
    for (const e of newest.values()) {
      const budget = Math.min(requestTimeoutMs, deadline - performance.now());
      if (budget <= 0 || stopping.signal.aborted) break; // the rest waits for the next batch
      try {
        await withDeadline(`${e.operation} ${e.kind} ${e.name}`, budget, send(e), stopping.signal);
        if (e.operation === 'apply' && e.payload) result.applied++;
        else result.deleted++;
      } catch (err) {
        // Stop here to keep the order; what was sent is still recorded below.
        if (!(err instanceof AbortedError)) failed = { entry: e, err };
        break;
      }
      // Everything for this object up to its newest entry is delivered (older ones superseded).
      const same = rows.filter((r) => r.kind === e.kind && r.name === e.name && r.namespace === e.namespace);
      result.coalesced += same.length - 1;
      done.push(...same.map((r) => r.id));
    }
    // The second transaction: the outcome. Idempotent, so a replica that took the lane over and
    // delivered the same entries meanwhile changes nothing here.
    if (done.length || failed) {
      await opts.db.transaction(async (tx) => {
        if (done.length)
          await tx.query(
            'UPDATE outbox SET delivered_at = now() WHERE id = ANY($1::bigint[]) AND delivered_at IS NULL',
            [done],
          );
        if (failed)
          await tx.query('UPDATE outbox SET attempts = attempts + 1, last_error = $2 WHERE id = $1', [
            failed.entry.id,
            String((failed.err as Error).message).slice(0, 1000),
          ]);
      });
    }
    lastProgress = done.length > 0;
    if (failed) throw failed.err;
    return result;
  }

  function send(e: PendingEntry): Promise<unknown> {
    if (e.operation === 'apply' && e.payload) return opts.client.apply(e.payload);
    return opts.client.delete({
      apiVersion: 'paas.kubeop.io/v1alpha1',
      kind: e.kind,
      name: e.name,
      ...(e.namespace ? { namespace: e.namespace } : {}),
    });
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
        // A batch that delivered something before it failed restarts the backoff: the cluster
        // answers, and the entry it refused (an App whose namespace the operator has not created
        // yet) is retried soon, instead of every later entry waiting maxBackoffMs per step.
        backoff = lastProgress || !backoff ? 500 : Math.min(maxBackoffMs, backoff * 2);
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
    /** Stops the loop; a send in flight is abandoned (left for the next owner) rather than awaited. */
    async stop() {
      stopped = true;
      stopping.abort();
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
