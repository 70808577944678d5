import { AsyncLocalStorage } from 'node:async_hooks';

/** The `transport` and `route` a metric with `handlerLabels` reads outside any handler. */
export const NO_HANDLER = 'none';

/** The label names `handlerLabels: true` adds to a metric. */
export const HANDLER_LABEL_NAMES = ['transport', 'route'] as const;

/**
 * The handler a piece of code runs for: one request, message, job or GraphQL operation. `route` is
 * read when an observation is made (an HTTP route is only known once the router matched), and is
 * the same value the request families use for it (already through their cardinality guard).
 */
export interface HandlerContext {
  readonly transport: string;
  readonly route: string;
}

const current = new AsyncLocalStorage<HandlerContext | undefined>();

/**
 * Runs `call` as the code of the handler `context`: every observation of a `handlerLabels`
 * metric made during it, and in the timers, callbacks and promises it starts, is labelled with
 * its transport and route. The one way into the context for an instrumentation that wraps the
 * handler's call (rpc, ws, queue jobs, GraphQL operations).
 */
export function runInHandlerContext<T>(
  context: HandlerContext,
  call: () => T,
): T {
  return current.run(context, call);
}

/**
 * Enters `context` for the rest of the current synchronous run and what it starts: for the HTTP
 * server's `request` listener, which runs before the framework's and cannot wrap it. `undefined`
 * leaves a context a previous request on the same connection entered.
 */
export function enterHandlerContext(context: HandlerContext | undefined): void {
  current.enterWith(context);
}

/** The handler the code running now belongs to, if any. */
export function currentHandler(): HandlerContext | undefined {
  return current.getStore();
}

/**
 * Whether the instrumentations of one app enter the context: off until a metric of that app asks
 * for `handlerLabels`, so an app without one pays nothing per request. Read per request, so a
 * metric created after start-up takes effect from the next request on.
 */
export class HandlerContextSwitch {
  on = false;
}

/** One switch per module instance, keyed by its resolved options (one object per module). */
const switches = new WeakMap<object, HandlerContextSwitch>();

/** The switch of the module whose resolved options are `options`. */
export function handlerContextSwitch(options: object): HandlerContextSwitch {
  let found = switches.get(options);
  if (found === undefined) {
    found = new HandlerContextSwitch();
    switches.set(options, found);
  }
  return found;
}
