import type { FastifyRequest } from 'fastify';
import { forbidden } from '../http/errors.ts';
import { atTheDoor, refusal, type ActionName } from './policy.ts';

declare module 'fastify' {
  interface FastifySchema {
    /** The policy action this operation is (src/manager/access/policy.ts); also in /openapi.json. */
    'x-kubeop-action'?: ActionName;
  }
}

/** The action a route declares in its schema, if any. */
export const routeAction = (req: FastifyRequest): ActionName | undefined =>
  req.routeOptions.schema?.['x-kubeop-action'];

/**
 * preHandler: a principal with platform scope (the metering role) is refused on every route its
 * role is not granted, before any handler runs, so no handler has to remember the role.
 */
export async function refuseAtTheDoor(req: FastifyRequest): Promise<void> {
  if (!req.principal) return;
  const action = routeAction(req);
  if (atTheDoor(req.principal, action) === 'forbidden')
    throw forbidden(action ? refusal(action) : `a ${req.principal.role} token may not use this route`);
}
