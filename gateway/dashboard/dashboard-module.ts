import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';
import type { AlarmService } from '../alarms/alarm-service.ts';
import type { GatewayModule } from '../gateway.ts';
import { dashboardRoutes } from './dashboard-routes.ts';

/** Where `npm run dashboard:build` (run by `npm ci` through `prepare`) writes the bundle. */
export const DASHBOARD_DIST = fileURLToPath(new URL('../../dashboard/dist/', import.meta.url));

/**
 * The operations dashboard (issue 10): its two API routes, and its built files served at `/` on
 * the HTTP port. Only the files that exist at start-up get routes (no wildcard), so `/api`,
 * `/metrics`, `/healthz` and `/readyz` are untouched and an unknown path still answers 404.
 */
export function dashboardModule(deps: {
  /** The alarm service exists once the alarms module is initialised. */
  alarms: () => AlarmService;
  tileUrl: string | null;
  dist?: string;
}): GatewayModule {
  const dist = deps.dist ?? DASHBOARD_DIST;
  const api = dashboardRoutes(deps);
  return {
    name: 'dashboard',
    routes(app, ctx) {
      api(app, ctx);
      if (existsSync(`${dist}/index.html`)) serveBuilt(app, dist, deps.tileUrl);
      else
        app.get('/', { schema: { hide: true } }, async (_req, reply) =>
          reply
            .code(503)
            .type('text/plain; charset=utf-8')
            .send('The dashboard is not built: run `npm run dashboard:build` and start the gateway again.\n'),
        );
    },
  };
}

function serveBuilt(app: FastifyInstance, root: string, tileUrl: string | null): void {
  // Nothing is fetched from elsewhere but the optional map tiles.
  const tiles = tileUrl ? ` ${new URL(tileUrl.replace(/[{}]/g, '')).origin}` : '';
  const csp = [
    "default-src 'self'",
    `img-src 'self' data:${tiles}`,
    "style-src 'self' 'unsafe-inline'",
    "connect-src 'self'",
    "frame-ancestors 'none'",
    "base-uri 'none'",
  ].join('; ');
  app.register(fastifyStatic, {
    root,
    prefix: '/',
    wildcard: false,
    index: 'index.html',
    cacheControl: false,
    setHeaders(reply, path) {
      // Vite names assets by content hash: they never change; index.html always revalidates.
      const hashed = path.includes('/assets/');
      reply.header('cache-control', hashed ? 'public, max-age=31536000, immutable' : 'no-cache');
      if (path.endsWith('.html')) {
        reply.header('content-security-policy', csp);
        reply.header('x-content-type-options', 'nosniff');
        reply.header('referrer-policy', 'no-referrer');
      }
    },
  });
}
