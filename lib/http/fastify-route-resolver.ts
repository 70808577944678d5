import type { IncomingMessage } from 'node:http';
import { UNMATCHED_ROUTE } from '../metrics.constants.js';
import {
  routeTemplateOf,
  type FastifyRouteRequest,
} from '../compat/fastify.js';
import type { ExchangeSlot, HttpExchange } from './http-exchange.js';
import type { RouteResolver } from './http-instrumentation.js';

/** The parts of a Fastify request the resolver reads (Fastify is never imported). */
export interface FastifyRequestLike extends FastifyRouteRequest {
  raw: IncomingMessage;
}

/**
 * Finds the route template of a Fastify request. Fastify routes a request before any hook runs,
 * so the template is known from the first `onRequest` hook on: `rememberRoute` keeps it on the
 * exchange, and requests Fastify answered with its not-found handler, or rejected before routing
 * (a malformed URL), are `UNMATCHED`.
 */
export class FastifyRouteResolver implements RouteResolver {
  static supports(app: unknown): boolean {
    const instance = app as Record<string, unknown> | undefined;
    return (
      typeof instance?.addHook === 'function' &&
      typeof instance.route === 'function' &&
      typeof instance.hasRoute === 'function' &&
      typeof instance.routing === 'function'
    );
  }

  /** Keeps the template Fastify matched on the request's exchange; call from a request hook. */
  static rememberRoute(
    slot: ExchangeSlot,
    request: FastifyRequestLike,
    reply: unknown,
  ): void {
    const exchange = slot.of(reply);
    if (exchange === undefined || exchange.route !== undefined) return;
    exchange.route = routeTemplateOf(request);
  }

  resolve(_req: IncomingMessage, exchange: HttpExchange): string {
    return exchange.route ?? UNMATCHED_ROUTE;
  }
}
