import { randomUUID } from 'node:crypto';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from './logging.ts';
import { frameworkErrorHandler, installProblemHandlers } from './problem.ts';
import type { HealthChecks } from './health.ts';
import { statusClass, type ServiceMetrics } from './metrics.ts';
import type { VersionInfo } from './version.ts';
import { recordRoutes } from './public-routes.ts';
import { requestValidatorCompiler } from './validation.ts';

export interface ServiceServerDeps {
  logger: Logger;
  health: HealthChecks;
  metrics: ServiceMetrics;
  version: VersionInfo;
}

const probePaths = new Set(['/healthz', '/readyz', '/metrics']);
const requestIdPattern = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * The HTTP server every component starts from: request ids on every log line, the request-duration
 * histogram labelled by route template, and `/healthz`, `/readyz`, `/version`, `/metrics`.
 * Components add their own routes to the returned instance before `listen`.
 */
export function createServiceServer(deps: ServiceServerDeps): FastifyInstance {
  const app = Fastify({
    loggerInstance: deps.logger as FastifyBaseLogger,
    // A caller's X-Request-Id is kept when it is well-formed, so one id follows a request across
    // services; anything else gets a fresh id (never echo arbitrary header text into logs).
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && requestIdPattern.test(given) ? given : randomUUID();
    },
    logController: new LogController({
      requestIdLogLabel: 'requestId',
      // Probes and scrapes arrive every few seconds; logging each would drown the real traffic.
      disableRequestLogging: (req) => probePaths.has(req.routeOptions.url ?? ''),
    }),
    bodyLimit: 1024 * 1024,
    return503OnClosing: true,
    frameworkErrors: frameworkErrorHandler,
  });

  recordRoutes(app);
  // Bodies are validated as sent, path, query and headers coerced from text (validation.ts).
  app.setValidatorCompiler(requestValidatorCompiler());
  installProblemHandlers(app);

  app.addHook('onRequest', async (req, reply) => {
    reply.header('x-request-id', req.id);
  });

  // Once close() begins, answers still in flight say `Connection: close`, so their keep-alive
  // sockets end with the response instead of holding shutdown open until the bound.
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  app.addHook('onSend', async (_req, reply) => {
    if (closing) reply.header('connection', 'close');
  });

  app.addHook('onResponse', async (req, reply) => {
    // routeOptions.url is the template ("/v1/tenants/:id"); unmatched requests share one label so
    // scanners cannot blow up the metric's cardinality.
    const route = req.routeOptions.url ?? 'unmatched';
    deps.metrics.httpDuration.observe(
      { route, method: req.method, status_class: statusClass(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
  });

  app.get('/healthz', { config: { public: true } }, async (_req, reply) => {
    const report = await deps.health.live();
    // Degraded is still ready: the process serves, and the body says what is impaired and why.
    return reply.code(report.status === 'failing' ? 503 : 200).send(report);
  });

  app.get('/readyz', { config: { public: true } }, async (_req, reply) => {
    const report = await deps.health.ready();
    // Degraded is still ready: the process serves, and the body says what is impaired and why.
    return reply.code(report.status === 'failing' ? 503 : 200).send(report);
  });

  app.get('/version', { config: { public: true } }, async () => deps.version);

  app.get('/metrics', { config: { public: true } }, async (_req, reply) => {
    reply.header('content-type', deps.metrics.registry.contentType);
    return deps.metrics.registry.metrics();
  });

  return app;
}
