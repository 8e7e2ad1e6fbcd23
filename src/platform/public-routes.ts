import type { FastifyInstance, FastifyRequest, RouteOptions } from 'fastify';

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * Whether the route answers without authentication. Every route declares it, true or false
     * (`config: { public: … }`); the manager refuses to start when one does not. Authentication is
     * decided by the route a request reached, never by its raw path: `/%761/tenants` is routed to
     * `/v1/tenants` and so authenticated like it.
     */
    public?: boolean;
  }
}

const recorded = new WeakMap<FastifyInstance, RouteOptions[]>();

/** Records every route registered on `app` and its plugins from now on (createServiceServer calls it first). */
export function recordRoutes(app: FastifyInstance): void {
  const routes: RouteOptions[] = [];
  recorded.set(app, routes);
  app.addHook('onRoute', (route) => {
    routes.push(route);
  });
}

export interface RouteDeclaration {
  method: string;
  url: string;
  public: boolean | undefined;
}

/**
 * The routes of `app` (the instance recordRoutes was given) and whether each is public. Read it once
 * `app` is ready: a plugin may still mark its routes until then.
 */
export function routeDeclarations(app: FastifyInstance): RouteDeclaration[] {
  return (recorded.get(app) ?? []).flatMap((route) =>
    [route.method].flat().map((method) => ({ method, url: route.url, public: route.config?.public })),
  );
}

/** The routes of `app` that do not say whether they are public. */
export function undeclaredRoutes(app: FastifyInstance): string[] {
  return routeDeclarations(app)
    .filter((r) => typeof r.public !== 'boolean')
    .map((r) => `${r.method} ${r.url}`);
}

/**
 * Answered without authentication: a route that declares `public: true`, or no route at all — a
 * request that matches none reaches no handler, only the 404 problem. Anything else, including a
 * route that forgot to declare, is authenticated.
 */
export function isPublic(req: FastifyRequest): boolean {
  return req.is404 || req.routeOptions.config.public === true;
}

/** An onRoute hook that marks every route of the plugin it is added to as public (for third-party plugins). */
export function markPublic(route: RouteOptions): void {
  route.config = { ...route.config, public: true };
}
