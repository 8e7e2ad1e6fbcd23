import { Gauge, type Registry } from 'prom-client';
import type { Database } from '../../db/database.ts';
import type { LaneSupervisor } from './lanes.ts';

/**
 * Delivery metrics, read at scrape time: how many lanes this replica owns, and per cluster how many
 * outbox entries wait and how old the oldest is (the same on every replica: it is the database's
 * view). A scrape while the database is unreachable leaves the outbox gauges empty.
 */
export function registerDeliveryMetrics(
  registry: Registry,
  db: Database,
  lanes: Pick<LaneSupervisor, 'owned'>,
): void {
  new Gauge({
    name: 'kubeop_manager_lanes_owned',
    help: 'Cluster delivery lanes this manager replica owns',
    registers: [registry],
    collect() {
      this.set(lanes.owned().length);
    },
  });
  // One query per scrape feeds both outbox gauges. The registry reads metrics concurrently, so each
  // gauge collects for itself, and the second joins the query the first started.
  type Row = { cluster: string | null; n: number; age: number };
  let inflight: Promise<Row[] | undefined> | undefined;
  const load = () =>
    (inflight ??= db
      .query<Row>(
        `SELECT c.name AS cluster, count(*)::int AS n,
           extract(epoch FROM now() - min(o.created_at))::float8 AS age
         FROM outbox o LEFT JOIN clusters c ON c.id = o.cluster_id
         WHERE o.delivered_at IS NULL GROUP BY c.name`,
      )
      .then(
        (r) => r.rows,
        () => undefined, // database unreachable: /readyz reports it
      )
      .finally(() => {
        inflight = undefined;
      }));
  new Gauge({
    name: 'kubeop_manager_outbox_pending',
    help: 'Outbox entries not yet delivered, per cluster (empty cluster label: not placed yet)',
    labelNames: ['cluster'],
    registers: [registry],
    async collect() {
      const rows = await load();
      this.reset();
      for (const r of rows ?? []) this.set({ cluster: r.cluster ?? '' }, r.n);
    },
  });
  new Gauge({
    name: 'kubeop_manager_outbox_oldest_pending_seconds',
    help: 'Age of the oldest undelivered outbox entry, per cluster',
    labelNames: ['cluster'],
    registers: [registry],
    async collect() {
      const rows = await load();
      this.reset();
      for (const r of rows ?? []) this.set({ cluster: r.cluster ?? '' }, Number(r.age));
    },
  });
}
