import { UNMATCHED_ROUTE } from '../metrics.constants.js';
import { reportDegraded } from './degraded.js';

type Done = (error?: Error) => void;

/** A request hook as `FastifyAdapter` runs it. */
export type AdapterRequestHook<Request> = (
  request: Request,
  reply: unknown,
  done: Done,
) => unknown;

/** `FastifyAdapter`'s private request-hook slot, the first hook of every request. */
export const ADAPTER_REQUEST_HOOK = {
  internal:
    '@nestjs/platform-fastify: FastifyAdapter onRequestHook / setOnRequestHook',
  loss: 'route of requests a middleware answers on Fastify (reported as UNMATCHED)',
};

/** What `FastifyRequest.routeOptions.url` and `is404` give: the matched route template. */
export const REQUEST_ROUTE_OPTIONS = {
  internal: 'fastify: request.routeOptions.url / request.is404',
  loss: 'route of Fastify requests (reported as UNMATCHED)',
};

/**
 * Puts `hook` in front of the adapter's own request hook (Nest's middleware runs from there, so
 * it is the only place that sees requests a middleware answers) and keeps the previous hook
 * running after it. Returns false, after one warning, when the adapter has no such slot.
 */
export function chainAdapterRequestHook<Request>(
  adapter: object,
  hook: (request: Request, reply: unknown) => void,
): boolean {
  const slot = adapter as {
    setOnRequestHook?: (hook: AdapterRequestHook<Request>) => void;
    onRequestHook?: unknown;
  };
  if (
    typeof slot.setOnRequestHook !== 'function' ||
    !('onRequestHook' in slot)
  ) {
    reportDegraded(ADAPTER_REQUEST_HOOK);
    return false;
  }
  const previous = slot.onRequestHook;
  if (previous !== undefined && typeof previous !== 'function') {
    reportDegraded(ADAPTER_REQUEST_HOOK);
    return false;
  }
  slot.setOnRequestHook(function (this: unknown, request, reply, done) {
    hook(request, reply);
    if (typeof previous === 'function')
      return (previous as AdapterRequestHook<Request>).call(
        this,
        request,
        reply,
        done,
      );
    done();
  });
  return true;
}

/** The parts of a Fastify request read for its route. */
export interface FastifyRouteRequest {
  is404?: boolean;
  routeOptions?: { url?: string | null };
}

/**
 * The route template Fastify matched, or `UNMATCHED` for its not-found handler and requests
 * rejected before routing. Warns once when the request does not carry `routeOptions` at all.
 */
export function routeTemplateOf(request: FastifyRouteRequest): string {
  const options = request.routeOptions;
  if (options === undefined || options === null) {
    reportDegraded(REQUEST_ROUTE_OPTIONS);
    return UNMATCHED_ROUTE;
  }
  const url = options.url;
  return request.is404 === true || typeof url !== 'string' || url === ''
    ? UNMATCHED_ROUTE
    : url;
}
