import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Database } from '../../db/database.ts';
import type { KubeClient } from '../../kube/client.ts';
import type { Logger } from '../../platform/logging.ts';
import type { ClusterAccess } from '../clusters/cluster-access.ts';
import { createDispatcher, type Dispatcher } from './dispatcher.ts';
import { syncStatus } from './status-sync.ts';
import { acquireLease, releaseLease, releaseLeases } from './lease-store.ts';

export interface LaneCluster {
  id: string;
  name: string;
  sealedKubeconfig: string | null;
  isDefault: boolean;
}

export interface LaneSupervisorOptions {
  db: Database;
  logger: Logger;
  access: Pick<ClusterAccess, 'open' | 'canOpen'>;
  /** This replica's name in the lease table; unique per process. */
  holder?: string;
  /** How long a lease lasts without renewal: the takeover time after a replica dies. */
  leaseMs?: number;
  /** How often leases are renewed and free ones claimed; well under leaseMs. */
  renewMs?: number;
  /** Outbox poll interval of each lane. */
  pollMs?: number;
  /** How often each lane reads CR status back. */
  statusEveryMs?: number;
  /** Deadline of each request a lane sends to its cluster (delivery and status read-back). */
  requestTimeoutMs?: number;
  /** Test seam: the client of a lane (default: the cluster's own, from access.open). */
  clientFor?: (cluster: LaneCluster) => Promise<KubeClient>;
}

interface Lane {
  cluster: LaneCluster;
  dispatcher: Dispatcher;
  stop: () => Promise<void>;
}

export function defaultHolder(): string {
  return `${hostname()}/${process.pid}/${randomUUID().slice(0, 8)}`;
}

/**
 * Runs one outbox lane per registered cluster, each owned by exactly one manager replica at a time.
 *
 * Contracts:
 * - Ownership is a lease row per cluster (lease-store.ts), renewed every `renewMs` and valid for
 *   `leaseMs`. A replica claims every free or expired lease of a cluster it can open, so when a
 *   replica dies its lanes move to the others within `leaseMs + renewMs`.
 * - The dispatcher re-checks the lease in each batch's transaction (and takes the lane's advisory
 *   lock), so a replica that lost its lease — paused, partitioned from the database — sends nothing
 *   more, even before this loop notices and stops the lane.
 * - A lane starts only once the previous lane of the same cluster in this process has stopped.
 * - stop() stops every lane and releases this replica's leases, so a rolling restart hands lanes over
 *   at once instead of after the lease expires.
 */
export function createLaneSupervisor(opts: LaneSupervisorOptions) {
  const holder = opts.holder ?? defaultHolder();
  const leaseMs = opts.leaseMs ?? 10_000;
  const renewMs = opts.renewMs ?? 2_000;
  const statusEveryMs = opts.statusEveryMs ?? 2_000;
  const requestTimeoutMs = opts.requestTimeoutMs ?? 10_000;
  const log = opts.logger;
  const lanes = new Map<string, Lane>();
  const stopping = new Map<string, Promise<void>>();
  const warned = new Set<string>();
  /** Clusters that failed to open (a damaged or foreign envelope): retried after a pause, not every tick. */
  const failedUntil = new Map<string, number>();
  let stopped = false;
  let wake: (() => void) | undefined;
  let loop: Promise<void> | undefined;

  async function startLane(cluster: LaneCluster, previous: string | undefined): Promise<void> {
    let client: KubeClient;
    try {
      client = opts.clientFor ? await opts.clientFor(cluster) : (await opts.access.open(cluster)).client;
    } catch (err) {
      log.error(
        { cluster: cluster.name, err: { message: (err as Error).message } },
        'cannot open the cluster; giving its lane up for 30 s',
      );
      failedUntil.set(cluster.id, Date.now() + 30_000);
      await releaseLease(opts.db, cluster.id, holder).catch(() => {});
      return;
    }
    const laneLog = log.child({ component: 'dispatcher', cluster: cluster.name });
    const dispatcher = createDispatcher({
      db: opts.db,
      client,
      logger: laneLog,
      lane: { clusterId: cluster.id, holder },
      requestTimeoutMs,
      leaseMarginMs: Math.min(1_000, leaseMs / 4),
      ...(opts.pollMs ? { pollMs: opts.pollMs } : {}),
    });
    dispatcher.start();
    // Stopping aborts the status read in flight and the pause between reads, so a lane whose
    // cluster never answers still stops at once (a wake-up sent while a read was in flight used to
    // be lost, and the lane then slept a full statusEveryMs).
    const halt = new AbortController();
    const lane: Lane = { cluster, dispatcher, stop: async () => {} };
    const sync = (async () => {
      while (!halt.signal.aborted) {
        try {
          await syncStatus(
            opts.db,
            client,
            { clusterId: cluster.id, isDefault: lane.cluster.isDefault },
            { timeoutMs: requestTimeoutMs, signal: halt.signal },
          );
        } catch (err) {
          laneLog.debug({ err: { message: (err as Error).message } }, 'status sync failed; retrying');
        }
        await sleep(statusEveryMs, undefined, { signal: halt.signal }).catch(() => {});
      }
    })();
    lane.stop = async () => {
      halt.abort();
      await dispatcher.stop();
      await sync;
    };
    lanes.set(cluster.id, lane);
    log.info(
      { cluster: cluster.name, holder, ...(previous ? { takenOverFrom: previous } : {}) },
      previous ? 'took over the delivery lane of a cluster' : 'delivering to a cluster (lane owned)',
    );
  }

  function stopLane(id: string, why: string): void {
    const lane = lanes.get(id);
    if (!lane) return;
    lanes.delete(id);
    log.info({ cluster: lane.cluster.name, why }, 'delivery lane stopped');
    const done = lane.stop().finally(() => stopping.delete(id));
    stopping.set(id, done);
  }

  async function tick(): Promise<void> {
    const { rows } = await opts.db.query<LaneCluster>(
      'SELECT id, name, kubeconfig AS "sealedKubeconfig", is_default AS "isDefault" FROM clusters ORDER BY name',
    );
    const present = new Set(rows.map((r) => r.id));
    for (const id of [...lanes.keys()]) if (!present.has(id)) stopLane(id, 'cluster deregistered');
    for (const c of rows) {
      if (stopped) return;
      if (!opts.clientFor && !opts.access.canOpen(c)) {
        if (!warned.has(c.id)) {
          warned.add(c.id);
          log.warn(
            { cluster: c.name },
            c.sealedKubeconfig
              ? 'this replica has no KMS key and leaves the cluster to replicas that have one'
              : 'this replica has no kubeconfig of its own and leaves the cluster to replicas that have one',
          );
        }
        continue;
      }
      if (stopping.has(c.id) || (failedUntil.get(c.id) ?? 0) > Date.now()) continue;
      const got = await acquireLease(opts.db, c.id, holder, leaseMs).catch((err: unknown) => {
        log.warn({ cluster: c.name, err: { message: (err as Error).message } }, 'lease renewal failed');
        return undefined;
      });
      if (!got) continue;
      const running = lanes.get(c.id);
      if (got.acquired && !running) await startLane(c, got.previous);
      else if (!got.acquired && running) stopLane(c.id, 'lease lost to another replica');
      else if (running) running.cluster = c;
    }
  }

  async function run(): Promise<void> {
    while (!stopped) {
      try {
        await tick();
      } catch (err) {
        log.warn({ err: { message: (err as Error).message } }, 'lane supervision failed; retrying');
      }
      if (stopped) break;
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, renewMs);
        wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
    }
  }

  return {
    holder,
    start(): void {
      loop ??= run();
    },
    /** Re-reads the clusters now (after a registration or deregistration). */
    refresh(): void {
      wake?.();
    },
    /** Delivers sooner than the next poll on every lane this replica owns. */
    nudge(): void {
      for (const lane of lanes.values()) lane.dispatcher.nudge();
    },
    /** Ids of the clusters whose lanes run here. */
    owned(): string[] {
      return [...lanes.keys()];
    },
    /** `release: false` leaves the leases to expire, as a crashed replica would (tests). */
    async stop(stopOpts: { release?: boolean } = {}): Promise<void> {
      stopped = true;
      wake?.();
      await loop;
      for (const id of [...lanes.keys()]) stopLane(id, 'manager stopping');
      await Promise.all(stopping.values());
      if (stopOpts.release !== false) await releaseLeases(opts.db, holder).catch(() => {});
    },
  };
}

export type LaneSupervisor = ReturnType<typeof createLaneSupervisor>;
