import { openDatabase } from '../db/open.ts';
import { migrate } from '../db/migrate.ts';
import { migrations } from '../db/migrations/index.ts';
import { describe } from '../db/postgres.ts';
import { registerManagerApi } from '../manager/http/api.ts';
import { ensureBootstrapToken } from '../manager/access/bootstrap.ts';
import { oidcSettingsFromConfig } from '../manager/access/oidc.ts';
import { readBuildInfo } from '../platform/version.ts';
import type { KubeConfig } from '@kubernetes/client-node';
import { secretSealer } from '../kms/columns.ts';
import { openKmsProvider } from '../kms/open.ts';
import { clusterAccess, type ClusterAccess } from '../manager/clusters/cluster-access.ts';
import { ensureLocalCluster } from '../manager/clusters/service.ts';
import { registerDeliveryMetrics } from '../manager/outbox/delivery-metrics.ts';
import { createLaneSupervisor, type LaneSupervisor } from '../manager/outbox/lanes.ts';
import type { Database } from '../db/database.ts';
import { loadKubeConfig } from './kubeconfig.ts';
import type { ServiceContext } from './service.ts';
import { ingestionSink, type InProcessLink } from './in-process.ts';
import { billingService } from '../manager/billing/service.ts';

/**
 * Composition root of the manager: database (migrated at start), then its routes. The database
 * readiness check keeps the manager out of rotation while PostgreSQL is unreachable. Under
 * `kubeop all` it also publishes its usage ingestion on the in-process link for the operator.
 */
export function managerSetup(opts: { link?: InProcessLink } = {}) {
  return async function setupManagerComponent(ctx: ServiceContext): Promise<void> {
    await setupManagerWith(ctx, opts.link);
  };
}

/** `kubeop manager`: nothing shared in-process. */
export const setupManager = managerSetup();

async function setupManagerWith(ctx: ServiceContext, link: InProcessLink | undefined): Promise<void> {
  const { config, logger } = ctx;
  // Checked before anything starts: inconsistent OIDC settings are a one-line configuration error.
  const oidc = oidcSettingsFromConfig(config);
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
  const local = loadKubeConfig(config.KUBEOP_KUBECONFIG, ctx.env);
  const access = clusterAccess({ sealer: openSealer(ctx), local });
  const lanes = await startDelivery(ctx, db, access, local);
  await registerManagerApi(ctx.app, {
    db,
    logger,
    rateLimitPerMinute: config.KUBEOP_API_RATE_LIMIT,
    version: readBuildInfo().version,
    ...(oidc ? { oidc } : {}),
    clusters: {
      access,
      memberKubeconfigMaxSeconds: config.KUBEOP_MEMBER_KUBECONFIG_MAX_SECONDS,
      onChange: () => lanes.refresh(),
    },
  });
  if (oidc) logger.info({ issuer: oidc.issuer, audience: oidc.audience }, 'OIDC sign-in enabled');
  if (link) link.usage = ingestionSink(billingService(db), config.KUBEOP_CLUSTER_NAME);
}

/**
 * The KMS that seals cluster kubeconfigs, when a key is configured. Without one the manager still
 * runs (the cluster of its own configuration needs no stored secret) and registering a cluster with
 * a kubeconfig is refused with KUBEOP_ERR_KMS_NOT_CONFIGURED.
 */
function openSealer(ctx: ServiceContext) {
  const { config, logger } = ctx;
  const configured =
    config.KUBEOP_KMS_MASTER_KEY !== undefined ||
    config.KUBEOP_KMS_KEYS !== undefined ||
    config.KUBEOP_KMS_DEV_MODE;
  if (!configured) {
    logger.info('no KMS key configured: clusters can only be registered once KUBEOP_KMS_MASTER_KEY is set');
    return undefined;
  }
  return secretSealer(openKmsProvider(config, { warn: (message) => logger.warn(message) }));
}

/**
 * Delivery: one outbox lane per registered cluster, each owned by one manager replica at a time
 * (lease rows in the database), with CR status read back. The cluster of this process's own
 * configuration (KUBEOP_KUBECONFIG, KUBECONFIG or in-cluster) is registered at start as the default
 * cluster. Without any cluster the API still works and every change waits in the outbox.
 */
async function startDelivery(
  ctx: ServiceContext,
  db: Database,
  access: ClusterAccess,
  local: KubeConfig | undefined,
): Promise<LaneSupervisor> {
  const { logger } = ctx;
  if (db.driver === 'pglite') {
    logger.info(
      'embedded PGlite: single-replica mode; run exactly one manager on this data directory (set KUBEOP_DB_URL to PostgreSQL for several replicas)',
    );
  }
  if (local) {
    const server = local.getCurrentCluster()?.server;
    if (server) {
      const registered = await ensureLocalCluster(db, server);
      logger.info(
        { cluster: registered.name, server, default: registered.isDefault },
        'cluster of the manager configuration registered',
      );
    }
  }
  const { rows } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM clusters');
  if (!rows[0]?.n) logger.warn('no cluster registered: changes are kept in the outbox until one is');
  const lanes = createLaneSupervisor({ db, logger: logger.child({ component: 'lanes' }), access });
  lanes.start();
  registerDeliveryMetrics(ctx.metrics.registry, db, lanes);
  // Registered after the database, so lanes stop (and release their leases) before it closes.
  ctx.lifecycle.onShutdown('delivery', () => lanes.stop());
  logger.info({ holder: lanes.holder }, 'delivery lanes started');
  return lanes;
}
