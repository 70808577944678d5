import type { IncomingMessage } from 'node:http';
import { UNMATCHED_ROUTE } from '../metrics.constants.js';
import {
  checkExpress,
  type ExpressRoute,
  type ExpressShape,
  layerRoutes,
  matchedRoute,
  routeHandlers,
  routeHandles,
  routerLayers,
} from '../compat/express.js';
import { isNestMiddleware } from './nest-middleware.js';
import type { HttpExchange } from './http-exchange.js';

/**
 * Finds the route template of an Express request. Only routes of the app's own router count:
 * Nest's catch-all 404 routes (`*path` under a global prefix), routes of mounted sub-routers
 * (whose paths are relative) and the routes Nest mounts its middleware as (`app.all()` for
 * `{ path: '*', method: ALL }`, nestjs-pino's default) are never reported, nor take the metrics
 * path.
 */
export class ExpressRouteResolver {
  /** Whether each route seen so far is one of the app's own; both answers are kept. */
  private readonly isApp = new Map<ExpressRoute, boolean>();
  private readonly shape: ExpressShape;

  /** Call once Nest has registered the controllers' routes: checks the router's shape. */
  constructor(private readonly app: unknown) {
    this.shape = checkExpress(app);
  }

  /** Call once Nest has registered the controllers' routes, before its 404 handlers. */
  rememberAppRoutes(): void {
    for (const route of this.topLevelRoutes()) this.isApp.set(route, true);
  }

  /** Call once Nest has registered its 404 handlers: routes that appeared since are those. */
  rememberNotFoundRoutes(): void {
    for (const route of this.topLevelRoutes()) {
      if (!this.isApp.has(route)) this.isApp.set(route, false);
    }
  }

  /** Whether the router could be read: the start-up checks need it. */
  get readable(): boolean {
    return this.shape.stack;
  }

  /** The templates of the app's own routes answering `method` (any method when undefined). */
  appTemplates(method?: string): string[] {
    const templates: string[] = [];
    for (const route of this.topLevelRoutes()) {
      if (this.isApp.get(route) !== true) continue;
      if (method !== undefined && !routeHandles(route, method, this.shape))
        continue;
      templates.push(route.path as string);
    }
    return templates;
  }

  /**
   * The template Express matched (`req.route`, set even when a guard or pipe rejected the request);
   * for a request stopped before routing (body parser, middleware), the first app route that
   * would have matched it; otherwise `UNMATCHED`.
   */
  resolve(req: IncomingMessage, exchange: HttpExchange): string {
    const route = matchedRoute(req);
    if (route !== undefined && this.isAppRoute(route))
      return route.path as string;
    return this.match(req.method ?? 'GET', exchange.pathname);
  }

  private isAppRoute(route: ExpressRoute): boolean {
    let known = this.isApp.get(route);
    if (known === undefined) {
      // A route added to the app after bootstrap (e.g. through the raw adapter) counts too;
      // one of a mounted sub-router does not. Decided once per route object. Without a readable
      // router, the route Express matched is taken as it is.
      known =
        typeof route.path === 'string' &&
        (!this.shape.stack || this.topLevelRoutes().includes(route));
      this.isApp.set(route, known);
    }
    return known;
  }

  /** Whether a route of the app (not one of Nest's 404 routes) would answer `method` `pathname`. */
  matchesAppRoute(method: string, pathname: string): boolean {
    return this.match(method, pathname) !== UNMATCHED_ROUTE;
  }

  private match(method: string, pathname: string): string {
    for (const layer of routerLayers(this.app, this.shape)) {
      const route = layer.route;
      if (route === undefined || !this.isAppRoute(route)) continue;
      if (layerRoutes(layer, method, pathname, this.shape))
        return route.path as string;
    }
    return UNMATCHED_ROUTE;
  }

  private topLevelRoutes(): ExpressRoute[] {
    const routes: ExpressRoute[] = [];
    for (const layer of routerLayers(this.app, this.shape)) {
      const route = layer.route;
      if (
        route !== undefined &&
        typeof route.path === 'string' &&
        !this.isMiddleware(route)
      )
        routes.push(route);
    }
    return routes;
  }

  /** Whether every function `route` runs is a middleware Nest mounted. */
  private isMiddleware(route: ExpressRoute): boolean {
    const handlers = routeHandlers(route, this.shape);
    return handlers.length > 0 && handlers.every(isNestMiddleware);
  }
}
