import type { IncomingMessage, ServerResponse } from 'node:http';
import { chainAdapterRequestHook } from '../compat/fastify.js';
import {
  FastifyRouteResolver,
  type FastifyRequestLike,
} from './fastify-route-resolver.js';
import type { ExchangeSlot } from './http-exchange.js';

type Done = (error?: Error) => void;
type RequestHook = (
  request: FastifyRequestLike,
  reply: unknown,
  done: Done,
) => unknown;

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
 * exchanges of `slot`. Call before the Fastify instance is ready.
 *
 * The route is read in the adapter's own request hook, the first to run, so that requests a Nest
 * middleware answers (which then skip every later hook) still get their route (see
 * `compat/fastify.ts`). A plain `onRequest` hook repeats the read in case the adapter's hook is
 * missing or replaced later.
 */
export function instrumentFastify(
  slot: ExchangeSlot,
  adapter: object,
  instance: FastifyInstanceLike,
): void {
  chainAdapterRequestHook<FastifyRequestLike>(adapter, (request, reply) =>
    FastifyRouteResolver.rememberRoute(slot, request, reply),
  );
  instance.addHook('onRequest', (request, reply, done) => {
    FastifyRouteResolver.rememberRoute(slot, request, reply);
    done();
  });
  // Runs before the error handler (Nest's exception filters) for errors raised outside Nest's
  // handlers: content-type parsing, body limits, hooks.
  instance.addHook('onError', (_request, reply, error, done) => {
    const exchange = slot.of(reply);
    if (exchange !== undefined && exchange.error === undefined)
      exchange.error = error;
    done();
  });
}

/**
 * Serves `path` (and `path/`) on Fastify as a raw route: the reply is hijacked and `handle`
 * writes the Node response, so no Nest guard, interceptor or filter sees it. The caller checks
 * first that no app route is at the path.
 */
export function serveOnFastify(
  instance: FastifyInstanceLike,
  path: string,
  handle: (req: IncomingMessage, res: ServerResponse) => Promise<void>,
): void {
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
