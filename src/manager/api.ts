import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import type { Database } from '../db/database.ts';
import type { Logger } from '../platform/logging.ts';
import { authenticate } from './auth/authenticate.ts';
import { resourceRoutes } from './routes/resources.ts';
import { tokenRoutes } from './routes/tokens.ts';
import { managerService } from './service.ts';

export interface ManagerApiOptions {
  db: Database;
  logger: Logger;
  /** Requests per minute per token (per client address before authentication). */
  rateLimitPerMinute: number;
  version: string;
}

/**
 * The manager's REST API on the service kit's Fastify instance: OpenAPI 3.1 at /openapi.json and a
 * docs page at /docs, bearer-token authentication on everything under /v1, per-token rate limits.
 */
export async function registerManagerApi(app: FastifyInstance, opts: ManagerApiOptions): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'kubeOP manager API',
        version: opts.version,
        description:
          'Tenants, projects and apps of kubeOP. Errors are application/problem+json with a stable `code`.',
      },
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer', description: 'A kubeOP API token (kop_…)' },
        },
      },
      security: [{ bearer: [] }],
    },
    hideUntagged: true,
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  app.addHook('onRequest', async (req) => {
    if (!req.url.startsWith('/v1/')) return;
    req.principal = await authenticate(opts.db, req.headers.authorization);
  });
  await app.register(rateLimit, {
    hook: 'preHandler',
    max: opts.rateLimitPerMinute,
    timeWindow: 60_000,
    keyGenerator: (req) => req.principal?.tokenId ?? req.ip,
    allowList: (req) => !req.url.startsWith('/v1/'),
    errorResponseBuilder: (_req, ctx) => ({
      statusCode: 429,
      code: 'KUBEOP_ERR_RATE_LIMITED',
      message: `rate limit of ${ctx.max} requests per minute exceeded; retry in ${Math.ceil(ctx.ttl / 1000)} s`,
    }),
  });

  const svc = managerService(opts.db);
  resourceRoutes(app, svc, opts.db);
  tokenRoutes(app, svc, opts.db);
}
