import { openDatabase } from '../db/open.ts';
import { migrate } from '../db/migrate.ts';
import { migrations } from '../db/migrations/index.ts';
import { describe } from '../db/postgres.ts';
import { registerManagerApi } from '../manager/api.ts';
import { ensureBootstrapToken } from '../manager/bootstrap.ts';
import { readBuildInfo } from '../platform/version.ts';
import { KubeClient } from '../kube/client.ts';
import { createDispatcher } from '../manager/dispatcher.ts';
import { syncStatus } from '../manager/status-sync.ts';
import type { Database } from '../db/database.ts';
import { loadKubeConfig } from './kubeconfig.ts';
import type { ServiceContext } from './service.ts';

/**
 * Composition root of the manager: database (migrated at start), then its routes. The database
 * readiness check keeps the manager out of rotation while PostgreSQL is unreachable.
 */
export async function setupManager(ctx: ServiceContext): Promise<void> {
  const { config, logger } = ctx;
  const where = config.KUBEOP_DB_URL
    ? `PostgreSQL at ${describe(config.KUBEOP_DB_URL)}`
    : `embedded PGlite in ${config.KUBEOP_DATA_DIR}`;
  logger.info(`manager database: ${where}`);
  const db = await openDatabase({ url: config.KUBEOP_DB_URL, dataDir: config.KUBEOP_DATA_DIR });
  ctx.lifecycle.onShutdown('database', () => db.close());
  const report = await migrate(db, migrations, (m) =>
    logger.info({ version: m.version, name: m.name }, 'applying migration'),
  );
  logger.info({ schemaVersion: report.current, applied: report.applied }, 'database schema up to date');
  await db.query(
    'INSERT INTO kubeop_installation (id) VALUES (gen_random_uuid()) ON CONFLICT (singleton) DO NOTHING',
  );
  ctx.health.addReadiness('database', () => db.ping());
  await ensureBootstrapToken(db, config.KUBEOP_BOOTSTRAP_TOKEN, (token) => {
    // Straight to the terminal, once, and never into the JSON logs.
    process.stderr.write(
      `\n  kubeOP bootstrap platform-admin token (shown once, store it now):\n\n    ${token}\n\n  Use it as "Authorization: Bearer <token>" to create tenants and more tokens.\n\n`,
    );
  });
  startDelivery(ctx, db);
  await registerManagerApi(ctx.app, {
    db,
    logger,
    rateLimitPerMinute: config.KUBEOP_API_RATE_LIMIT,
    version: readBuildInfo().version,
  });
}

/**
 * Delivery to the cluster this process is configured for (KUBEOP_KUBECONFIG, KUBECONFIG or
 * in-cluster): the outbox dispatcher, and status read back every few seconds. Without a cluster the
 * API still works and every change waits in the outbox, which the log says.
 */
function startDelivery(ctx: ServiceContext, db: Database): void {
  const { config, logger } = ctx;
  const kc = loadKubeConfig(config.KUBEOP_KUBECONFIG, ctx.env);
  if (!kc) {
    logger.warn('no cluster configured: changes are kept in the outbox until a cluster is configured');
    return;
  }
  const client = new KubeClient(kc, { fieldManager: 'kubeop-manager' });
  const dispatcher = createDispatcher({ db, client, logger: logger.child({ component: 'dispatcher' }) });
  dispatcher.start();
  let syncing = true;
  const sync = (async () => {
    while (syncing) {
      try {
        await syncStatus(db, client);
      } catch (err) {
        logger.debug({ err: { message: (err as Error).message } }, 'status sync failed; retrying');
      }
      await new Promise((r) => setTimeout(r, 2000));
    }
  })();
  // Registered after the database, so they stop before it closes.
  ctx.lifecycle.onShutdown('delivery', async () => {
    syncing = false;
    await dispatcher.stop();
    await sync;
  });
  logger.info({ server: kc.getCurrentCluster()?.server }, 'manager delivers to the cluster');
}
