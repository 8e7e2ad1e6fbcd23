import type { ServiceContext } from './service.ts';

/**
 * Composition root of the admission webhooks. At this stage it serves the service kit only; the
 * HTTPS webhook server and its certificates are wired here as they land.
 */
export async function setupAdmission(ctx: ServiceContext): Promise<void> {
  ctx.logger.debug('admission: no webhooks wired yet');
}
