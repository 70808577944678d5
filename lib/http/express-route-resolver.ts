import type { IncomingMessage } from 'node:http';
import { UNMATCHED_ROUTE } from '../metrics.constants.js';
import type { HttpExchange } from './http-exchange.js';

interface ExpressRoute {
  path: unknown;
  _handlesMethod?(method: string): boolean;
}

interface ExpressLayer {
  route?: ExpressRoute;
  match?(path: string): unknown;
}

interface ExpressApp {
  router?: { stack?: ExpressLayer[] };
}

/**
 * Finds the route template of an Express request. Only routes of the app's own router count:
 * Nest's catch-all 404 routes (`*path` under a global prefix) and routes of mounted sub-routers
 * (whose paths are relative) are never reported.
 */
export class ExpressRouteResolver {
  /** Whether each route seen so far is one of the app's own; both answers are kept. */
  private readonly isApp = new Map<ExpressRoute, boolean>();

  constructor(private readonly app: ExpressApp) {}

  static supports(app: unknown): boolean {
    const router = (app as ExpressApp | undefined)?.router;
    return Array.isArray(router?.stack);
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

  /**
   * The template Express matched (`req.route`, set even when a guard or pipe rejected the request);
   * for a request stopped before routing (body parser, middleware), the first app route that
   * would have matched it; otherwise `UNMATCHED`.
   */
  resolve(req: IncomingMessage, exchange: HttpExchange): string {
    const route = (req as IncomingMessage & { route?: ExpressRoute }).route;
    if (route !== undefined && this.isAppRoute(route))
      return route.path as string;
    return this.match(req.method ?? 'GET', exchange.pathname);
  }

  private isAppRoute(route: ExpressRoute): boolean {
    let known = this.isApp.get(route);
    if (known === undefined) {
      // A route added to the app after bootstrap (e.g. through the raw adapter) counts too;
      // one of a mounted sub-router does not. Decided once per route object.
      known =
        typeof route.path === 'string' && this.topLevelRoutes().includes(route);
      this.isApp.set(route, known);
    }
    return known;
  }

  private match(method: string, pathname: string): string {
    for (const layer of this.app.router?.stack ?? []) {
      const route = layer.route;
      if (
        route === undefined ||
        typeof layer.match !== 'function' ||
        !this.isAppRoute(route)
      )
        continue;
      if (route._handlesMethod && !route._handlesMethod(method)) continue;
      let matches: boolean;
      try {
        matches = Boolean(layer.match(pathname));
      } catch {
        // Express throws while decoding the params of a path that matched (malformed %-encoding).
        matches = true;
      }
      if (matches) return route.path as string;
    }
    return UNMATCHED_ROUTE;
  }

  private topLevelRoutes(): ExpressRoute[] {
    const routes: ExpressRoute[] = [];
    for (const layer of this.app.router?.stack ?? []) {
      if (layer.route !== undefined && typeof layer.route.path === 'string')
        routes.push(layer.route);
    }
    return routes;
  }
}
