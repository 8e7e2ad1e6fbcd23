import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import type { Database } from '../../db/database.ts';
import type { Logger } from '../../platform/logging.ts';
import { isPublic, markPublic, undeclaredRoutes } from '../../platform/public-routes.ts';
import { authenticate } from '../access/authenticate.ts';
import { createOidcAuthenticator, type OidcSettings } from '../access/oidc.ts';
import { enforceCelRules, refuseRemovedFields, refuseUnstorableInput } from './common.ts';
import type { ClusterAccess } from '../clusters/cluster-access.ts';
import { clusterService } from '../clusters/service.ts';
import { clusterRoutes } from '../clusters/routes.ts';
import { billingService } from '../billing/service.ts';
import { analyticsRoutes } from '../billing/analytics-routes.ts';
import { invoiceRoutes } from '../billing/invoice-routes.ts';
import { planRoutes } from '../billing/plan-routes.ts';
import { usageRoutes } from '../billing/usage-routes.ts';
import { refuseAtTheDoor } from '../access/door.ts';
import { resourceRoutes } from '../tenancy/routes.ts';
import { tokenRoutes } from '../access/token-routes.ts';
import { managerService } from '../tenancy/service.ts';

export interface ManagerApiOptions {
  db: Database;
  logger: Logger;
  /** Requests per minute per token, or per client address without a valid token. */
  rateLimitPerMinute: number;
  version: string;
  /** Optional OIDC sign-in (bearer JWTs of one issuer); API tokens keep working beside it. */
  oidc?: OidcSettings;
  /** Clusters: how their kubeconfigs are sealed and opened, and member kubeconfig lifetimes. */
  clusters?: {
    access?: ClusterAccess;
    memberKubeconfigMaxSeconds?: number;
    /** Called after a cluster is registered or deregistered (the lanes re-read the clusters). */
    onChange?: () => void;
  };
}

/**
 * The manager's REST API on the service kit's Fastify instance: OpenAPI 3.1 at /openapi.json and a
 * docs page at /docs, bearer-token authentication on every route not declared public, per-token rate
 * limits.
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
          bearer: {
            type: 'http',
            scheme: 'bearer',
            description: 'A kubeOP API token (kop_…), or a JWT of the OIDC issuer when one is configured',
          },
        },
      },
      security: [{ bearer: [] }],
    },
    hideUntagged: true,
  });
  // The docs page and its assets are public; swagger-ui's routes cannot say so themselves.
  await app.register(async (docs) => {
    docs.addHook('onRoute', markPublic);
    await docs.register(swaggerUi, { routePrefix: '/docs' });
  });
  app.get('/openapi.json', { config: { public: true }, schema: { hide: true } }, async () => app.swagger());
  // Every route says whether it is public; one that does not stops the manager at start.
  app.addHook('onReady', async () => {
    const undeclared = undeclaredRoutes(app);
    if (undeclared.length > 0)
      throw new Error(`routes must declare config.public (true or false): ${undeclared.join(', ')}`);
  });

  // An empty body sent as JSON is no body: clients that set `content-type: application/json` on
  // every request (a DELETE included) are not refused. Anything else is Fastify's own parser.
  const json = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (req, body, done) => {
    if (body === '') return done(null, undefined);
    return json(req, body as string, done);
  });

  const oidc = opts.oidc ? createOidcAuthenticator(opts.oidc) : undefined;
  // Authentication is keyed on the route the request reached, not its raw path (`/%761/tenants` is
  // `/v1/tenants`). A failure is held until preParsing, so the rate limit (a route-level onRequest
  // hook, after this one) counts the request first: requests without a valid token are limited per
  // client address, and every request counts, whatever validation later says of it.
  const authFailures = new WeakMap<object, unknown>();
  app.addHook('onRequest', async (req) => {
    if (isPublic(req)) return;
    try {
      req.principal = await authenticate(opts.db, req.headers.authorization, oidc);
    } catch (err) {
      authFailures.set(req, err);
    }
  });
  app.addHook('preParsing', async (req) => {
    if (authFailures.has(req)) throw authFailures.get(req);
  });
  await app.register(rateLimit, {
    hook: 'onRequest',
    max: opts.rateLimitPerMinute,
    timeWindow: 60_000,
    keyGenerator: (req) => req.principal?.tokenId ?? req.principal?.actor ?? `address:${req.ip}`,
    allowList: (req) => req.routeOptions.config.public === true,
    errorResponseBuilder: (_req, ctx) => ({
      statusCode: 429,
      code: 'KUBEOP_ERR_RATE_LIMITED',
      message: `rate limit of ${ctx.max} requests per minute exceeded; retry in ${Math.ceil(ctx.ttl / 1000)} s`,
    }),
  });

  app.addHook('preValidation', refuseUnstorableInput);
  app.addHook('preValidation', refuseRemovedFields);
  app.addHook('preHandler', enforceCelRules);
  app.addHook('preHandler', refuseAtTheDoor);

  const svc = managerService(opts.db);
  resourceRoutes(app, svc, opts.db);
  tokenRoutes(app, svc, opts.db);
  clusterRoutes(app, clusterService({ db: opts.db, ...opts.clusters }));
  const billing = billingService(opts.db);
  usageRoutes(app, billing);
  planRoutes(app, billing);
  invoiceRoutes(app, billing);
  analyticsRoutes(app, billing);
}
