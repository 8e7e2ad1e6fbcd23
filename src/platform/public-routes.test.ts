import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { isPublic, markPublic, recordRoutes, routeDeclarations, undeclaredRoutes } from './public-routes.ts';

describe('public routes', () => {
  it('lists what every route declares, and the routes that declare nothing', async () => {
    const app = Fastify();
    recordRoutes(app);
    app.get('/open', { config: { public: true } }, async () => 'ok');
    app.post('/closed', { config: { public: false } }, async () => 'ok');
    app.get('/forgot', async () => 'ok');
    await app.register(async (plugin) => {
      plugin.addHook('onRoute', markPublic);
      plugin.get('/third-party', async () => 'ok');
    });
    await app.ready();
    expect(routeDeclarations(app)).toEqual(
      expect.arrayContaining([
        { method: 'GET', url: '/open', public: true },
        { method: 'POST', url: '/closed', public: false },
        { method: 'GET', url: '/third-party', public: true },
        { method: 'HEAD', url: '/third-party', public: true },
      ]),
    );
    expect(undeclaredRoutes(app)).toEqual(['GET /forgot', 'HEAD /forgot']);
  });

  it('a request is public when its route says so or when it matches no route', async () => {
    const app = Fastify();
    const seen: Record<string, boolean> = {};
    app.addHook('onRequest', async (req) => {
      seen[req.url] = isPublic(req);
    });
    app.get('/open', { config: { public: true } }, async () => 'ok');
    app.get('/v1/closed', { config: { public: false } }, async () => 'ok');
    app.get('/forgot', async () => 'ok');
    for (const url of ['/open', '/v1/closed', '/%761/closed', '/forgot', '/missing']) await app.inject(url);
    expect(seen).toEqual({
      '/open': true,
      '/v1/closed': false,
      '/%761/closed': false,
      '/forgot': false,
      '/missing': true,
    });
  });
});
