import type { IncomingMessage } from 'node:http';
import { reportDegraded } from './degraded.js';

/** A route of Express's router (`router/lib/route.js`). */
export interface ExpressRoute {
  path: unknown;
  stack?: unknown;
  _handlesMethod?(method: string): boolean;
}

/** A layer of Express's router stack (`router/lib/layer.js`). */
export interface ExpressLayer {
  route?: ExpressRoute;
  match?(path: string): unknown;
}

interface ExpressAppLike {
  router?: { stack?: unknown };
}

export const ROUTER_STACK = {
  internal: 'express: app.router.stack',
  loss: 'route of requests stopped before routing (middleware, body parser) reported as UNMATCHED, and Nest’s 404 routes not told apart from app routes; the excludePaths and metrics-path start-up checks are skipped',
};

export const LAYER_MATCH = {
  internal: 'express: router Layer#match',
  loss: 'route of requests stopped before routing (middleware, body parser) reported as UNMATCHED',
};

export const ROUTE_HANDLES_METHOD = {
  internal: 'express: router Route#_handlesMethod',
  loss: 'route of requests stopped before routing matched by path alone, whatever the method',
};

export const ROUTE_STACK = {
  internal: 'express: router Route#stack',
  loss: 'Nest middleware mounted as a route (nestjs-pino’s LoggerModule by default) taken for an app route: the metrics and summary paths are not served where such a middleware applies',
};

/** What of Express's router the resolver may use, decided once at start-up. */
export interface ExpressShape {
  stack: boolean;
  match: boolean;
  handlesMethod: boolean;
  routeStack: boolean;
}

/** Whether `app` looks like an Express app at all (has a router). */
export function isExpressApp(app: unknown): boolean {
  return (
    typeof app === 'function' &&
    typeof (app as { use?: unknown }).use === 'function' &&
    'router' in (app as object)
  );
}

/**
 * Checks, once the app's routes are registered, the parts of Express's router the library
 * reads, and warns once for each that is not as expected.
 */
export function checkExpress(app: unknown): ExpressShape {
  const stack = (app as ExpressAppLike | undefined)?.router?.stack;
  if (!Array.isArray(stack)) {
    reportDegraded(ROUTER_STACK);
    return {
      stack: false,
      match: false,
      handlesMethod: false,
      routeStack: false,
    };
  }
  const routeLayers = (stack as ExpressLayer[]).filter(
    (layer) => layer.route !== undefined,
  );
  const match = routeLayers.every((layer) => typeof layer.match === 'function');
  if (!match) reportDegraded(LAYER_MATCH);
  const handlesMethod = routeLayers.every(
    (layer) => typeof layer.route!._handlesMethod === 'function',
  );
  if (!handlesMethod) reportDegraded(ROUTE_HANDLES_METHOD);
  const routeStack = routeLayers.every((layer) =>
    Array.isArray(layer.route!.stack),
  );
  if (!routeStack) reportDegraded(ROUTE_STACK);
  return { stack: true, match, handlesMethod, routeStack };
}

/** The app router's layers, or none when the shape was found missing. */
export function routerLayers(
  app: unknown,
  shape: ExpressShape,
): ExpressLayer[] {
  if (!shape.stack) return [];
  const stack = (app as ExpressAppLike).router?.stack;
  return Array.isArray(stack) ? (stack as ExpressLayer[]) : [];
}

/** The route Express matched for a request (`req.route`), set while routing. */
export function matchedRoute(req: IncomingMessage): ExpressRoute | undefined {
  return (req as IncomingMessage & { route?: ExpressRoute }).route;
}

/** The functions `route` runs (its stack's handles); none when that cannot be told. */
export function routeHandlers(
  route: ExpressRoute,
  shape: ExpressShape,
): unknown[] {
  if (!shape.routeStack || !Array.isArray(route.stack)) return [];
  return (route.stack as { handle?: unknown }[]).map((layer) => layer?.handle);
}

/** Whether `route` answers `method`; true when that cannot be told. */
export function routeHandles(
  route: ExpressRoute,
  method: string,
  shape: ExpressShape,
): boolean {
  return (
    !shape.handlesMethod ||
    typeof route._handlesMethod !== 'function' ||
    route._handlesMethod(method)
  );
}

/**
 * Whether `layer` would route `method` `pathname`: Express's own matcher, so the template found
 * is the one Express would have picked. A path that throws while decoding (malformed
 * %-encoding) matched.
 */
export function layerRoutes(
  layer: ExpressLayer,
  method: string,
  pathname: string,
  shape: ExpressShape,
): boolean {
  const route = layer.route;
  if (route === undefined || !shape.match || typeof layer.match !== 'function')
    return false;
  if (!routeHandles(route, method, shape)) return false;
  try {
    return Boolean(layer.match(pathname));
  } catch {
    return true;
  }
}
