import { openDatabase } from '../db/open.ts';
import { migrate } from '../db/migrate.ts';
import { migrations } from '../db/migrations/index.ts';
import { describe } from '../db/postgres.ts';
import { registerManagerApi } from '../manager/api.ts';
import { ensureBootstrapToken } from '../manager/bootstrap.ts';
import { readBuildInfo } from '../platform/version.ts';
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
  await registerManagerApi(ctx.app, {
    db,
    logger,
    rateLimitPerMinute: config.KUBEOP_API_RATE_LIMIT,
    version: readBuildInfo().version,
  });
}
