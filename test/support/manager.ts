import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import type { Database } from '../../src/db/database.ts';
import { migrate } from '../../src/db/migrate.ts';
import { migrations } from '../../src/db/migrations/index.ts';
import { registerManagerApi, type ManagerApiOptions } from '../../src/manager/http/api.ts';
import { ensureBootstrapToken } from '../../src/manager/access/bootstrap.ts';
import type { OidcSettings } from '../../src/manager/access/oidc.ts';
import { HealthChecks } from '../../src/platform/health.ts';
import { createServiceServer } from '../../src/platform/http-server.ts';
import { createLogger } from '../../src/platform/logging.ts';
import { createServiceMetrics } from '../../src/platform/metrics.ts';

/** The manager API on a migrated database, in process (requests through `inject`). */
export async function managerApi(
  db: Database,
  opts: {
    rateLimitPerMinute?: number;
    oidc?: OidcSettings;
    clusters?: ManagerApiOptions['clusters'];
    /** Routes of other components sharing the server, as under `kubeop all` (registered first). */
    beside?: (app: FastifyInstance) => void;
  } = {},
): Promise<{ app: FastifyInstance; adminToken: string }> {
  await migrate(db, migrations);
  const logger = createLogger({
    service: 'test-manager',
    level: 'silent',
    destination: new Writable({ write: (_c, _e, d) => d() }),
  });
  const app = createServiceServer({
    logger,
    health: new HealthChecks(1000),
    metrics: createServiceMetrics(),
    version: { service: 'manager', version: 'test', gitCommit: 'test', buildDate: 'test' },
  });
  opts.beside?.(app);
  let adminToken = '';
  await ensureBootstrapToken(db, undefined, (t) => (adminToken = t));
  await registerManagerApi(app, {
    db,
    logger,
    rateLimitPerMinute: opts.rateLimitPerMinute ?? 100_000,
    version: 'test',
    ...(opts.oidc ? { oidc: opts.oidc } : {}),
    ...(opts.clusters ? { clusters: opts.clusters } : {}),
  });
  await app.ready();
  return { app, adminToken };
}

export const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
