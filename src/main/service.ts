import type { FastifyInstance } from 'fastify';
import type { DestinationStream } from 'pino';
import { formatListenAddress, parseListenAddress } from '../platform/address.ts';
import type { Config } from '../platform/config.ts';
import { HealthChecks } from '../platform/health.ts';
import { createServiceServer } from '../platform/http-server.ts';
import { Lifecycle } from '../platform/lifecycle.ts';
import { createLogger, type Logger } from '../platform/logging.ts';
import { createServiceMetrics, type ServiceMetrics } from '../platform/metrics.ts';
import { readBuildInfo } from '../platform/version.ts';

/** What a component's composition root gets to wire itself into the process. */
export interface ServiceContext {
  service: string;
  config: Config;
  /** The process environment (KUBECONFIG and friends), injected for tests. */
  env: Record<string, string | undefined>;
  logger: Logger;
  health: HealthChecks;
  metrics: ServiceMetrics;
  lifecycle: Lifecycle;
  app: FastifyInstance;
}

export interface RunningService {
  /** The bound address, `host:port` (the real port when the configured one was 0). */
  address: string;
  url: string;
  lifecycle: Lifecycle;
  logger: Logger;
}

export type ComponentSetup = (ctx: ServiceContext) => Promise<void>;

/**
 * Starts one process's service kit, lets each component wire itself in, then listens. If a setup
 * fails, whatever was already wired is closed again before the error propagates, so a failed start
 * leaves no open database or watch behind.
 */
export async function startService(
  service: string,
  config: Config,
  setups: ComponentSetup[],
  opts: {
    logDestination?: DestinationStream;
    unknownVariables?: string[];
    env?: Record<string, string | undefined>;
  } = {},
): Promise<RunningService> {
  const logger = createLogger({
    service,
    level: config.KUBEOP_LOG_LEVEL,
    ...(opts.logDestination ? { destination: opts.logDestination } : {}),
  });
  for (const name of opts.unknownVariables ?? []) {
    logger.warn({ variable: name }, 'unknown KUBEOP_ variable ignored; see docs/reference/configuration.md');
  }
  const metrics = createServiceMetrics();
  const health = new HealthChecks(config.KUBEOP_READINESS_CHECK_TIMEOUT_MS);
  const lifecycle = new Lifecycle(logger, config.KUBEOP_SHUTDOWN_TIMEOUT_SECONDS * 1000);
  health.addLiveness('event-loop', () => {});
  health.addReadiness('shutdown', () => {
    if (lifecycle.draining) throw new Error('shutting down');
  });
  const app = createServiceServer({ logger, health, metrics, version: { service, ...readBuildInfo() } });
  const ctx: ServiceContext = {
    service,
    config,
    env: opts.env ?? process.env,
    logger,
    health,
    metrics,
    lifecycle,
    app,
  };
  try {
    for (const setup of setups) await setup(ctx);
  } catch (err) {
    await lifecycle.shutdown('startup failed');
    throw err;
  }
  lifecycle.addHttpServer('http', app);
  const addr = parseListenAddress(config.KUBEOP_HTTP_ADDR);
  if (!addr) throw new Error(`KUBEOP_HTTP_ADDR is invalid: ${config.KUBEOP_HTTP_ADDR}`);
  try {
    await app.listen({ host: addr.host, port: addr.port });
  } catch (err) {
    await lifecycle.shutdown('listen failed');
    throw new Error(`cannot listen on ${config.KUBEOP_HTTP_ADDR}: ${(err as Error).message}`, { cause: err });
  }
  const bound = app.server.address();
  const address =
    bound && typeof bound === 'object'
      ? formatListenAddress({ host: addr.host, port: bound.port })
      : config.KUBEOP_HTTP_ADDR;
  logger.info({ address }, `${service} listening on http://${address}`);
  return { address, url: `http://${address}`, lifecycle, logger };
}
