import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '@nestjs/common';
import {
  FastifyRouteResolver,
  type FastifyRequestLike,
} from './fastify-route-resolver.js';
import { exchangeOf } from './http-exchange.js';

type Done = (error?: Error) => void;
type RequestHook = (
  request: FastifyRequestLike,
  reply: unknown,
  done: Done,
) => unknown;

/** The parts of `FastifyAdapter` used here (the package is never imported). */
export interface FastifyAdapterLike {
  setOnRequestHook?(hook: RequestHook): void;
}

/** The parts of a Fastify instance used here. */
export interface FastifyInstanceLike {
  addHook(name: 'onRequest', hook: RequestHook): unknown;
  addHook(
    name: 'onError',
    hook: (
      request: FastifyRequestLike,
      reply: unknown,
      error: unknown,
      done: Done,
    ) => void,
  ): unknown;
  hasRoute(options: { method: string; url: string }): boolean;
  get(
    url: string,
    handler: (
      request: FastifyRequestLike,
      reply: { raw: ServerResponse; hijack(): void },
    ) => Promise<void>,
  ): unknown;
}

/**
 * Reads the matched route and the errors Fastify handles itself (body parsing, hooks) into the
 * exchange of each request. Call before the Fastify instance is ready.
 *
 * The route is read in the adapter's own request hook, the first to run, so that requests a Nest
 * middleware answers (which then skip every later hook) still get their route; the previous hook
 * keeps running after it. A plain `onRequest` hook repeats the read in case the adapter's hook is
 * replaced later.
 */
export function instrumentFastify(
  adapter: FastifyAdapterLike,
  instance: FastifyInstanceLike,
): void {
  // A custom adapter around a Fastify instance may not have the hook slot; the plain hook below
  // still reads the route there, for every request that reaches it.
  if (typeof adapter.setOnRequestHook === 'function') {
    const previous: unknown = Reflect.get(adapter, 'onRequestHook');
    adapter.setOnRequestHook(function (this: unknown, request, reply, done) {
      FastifyRouteResolver.rememberRoute(request, reply);
      if (typeof previous === 'function')
        return (previous as RequestHook).call(this, request, reply, done);
      done();
    });
  }
  instance.addHook('onRequest', (request, reply, done) => {
    FastifyRouteResolver.rememberRoute(request, reply);
    done();
  });
  // Runs before the error handler (Nest's exception filters) for errors raised outside Nest's
  // handlers: content-type parsing, body limits, hooks.
  instance.addHook('onError', (_request, reply, error, done) => {
    const exchange = exchangeOf(reply);
    if (exchange !== undefined && exchange.error === undefined)
      exchange.error = error;
    done();
  });
}

/**
 * Serves `path` (and `path/`) on Fastify as a raw route: the reply is hijacked and `handle`
 * writes the Node response, so no Nest guard, interceptor or filter sees it. An app route at
 * the same path wins, as on Express.
 */
export function serveOnFastify(
  instance: FastifyInstanceLike,
  path: string,
  handle: (req: IncomingMessage, res: ServerResponse) => Promise<void>,
  logger: Logger,
): void {
  if (instance.hasRoute({ method: 'GET', url: path })) {
    logger.warn(
      `The metrics path ${path} is not served: the app has a GET route there.`,
    );
    return;
  }
  const handler = (
    request: FastifyRequestLike,
    reply: { raw: ServerResponse; hijack(): void },
  ): Promise<void> => {
    reply.hijack();
    return handle(request.raw, reply.raw);
  };
  instance.get(path, handler);
  // Unless the router ignores trailing slashes already, `path/` is a route of its own.
  if (!instance.hasRoute({ method: 'GET', url: `${path}/` }))
    instance.get(`${path}/`, handler);
}
