import type { ServiceContext } from './service.ts';

/**
 * Composition root of the operator. At this stage it serves the service kit only; the cache,
 * work queues, leader election and controllers are wired here as they land.
 */
export async function setupOperator(ctx: ServiceContext): Promise<void> {
  ctx.logger.debug('operator: no controllers wired yet');
}
