import type { IncomingMessage } from 'node:http';
import { UNMATCHED_ROUTE } from '../metrics.constants.js';

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

/** Finds the route template of an Express request. */
export class ExpressRouteResolver {
  constructor(private readonly app: ExpressApp) {}

  static supports(app: unknown): boolean {
    const router = (app as ExpressApp | undefined)?.router;
    return Array.isArray(router?.stack);
  }

  /**
   * The template Express matched (`req.route`, set even when a guard or pipe rejected the request);
   * for a request stopped before routing (body parser, middleware), the first registered route that
   * would have matched it.
   */
  resolve(req: IncomingMessage, pathname: string): string {
    const matched = (req as IncomingMessage & { route?: ExpressRoute }).route?.path;
    if (typeof matched === 'string') return matched;
    return this.match(req.method ?? 'GET', pathname);
  }

  private match(method: string, pathname: string): string {
    const stack = this.app.router?.stack ?? [];
    for (const layer of stack) {
      const route = layer.route;
      if (route === undefined || typeof route.path !== 'string' || typeof layer.match !== 'function') continue;
      if (route._handlesMethod && !route._handlesMethod(method)) continue;
      let matches = false;
      try {
        matches = Boolean(layer.match(pathname));
      } catch {
        // A malformed percent-encoding makes Express throw while decoding params; the path still matched.
        matches = true;
      }
      if (matches) return route.path;
    }
    return UNMATCHED_ROUTE;
  }
}
