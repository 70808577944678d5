/**
 * The functions Nest mounted as middleware (`MiddlewareConsumer.apply(...).forRoutes(...)`, as
 * nestjs-pino's `LoggerModule` does for every path). On Express, Nest mounts a middleware that
 * applies to all methods or to one method with `app.all()` / `app.get()`, which makes it a route
 * of the router like a controller's: the route resolver tells them apart by these functions.
 */
const middlewareHandlers = new WeakSet<object>();
/** Adapters whose middleware factory is watched already. */
const watched = new WeakSet<object>();

type Register = (path: unknown, callback: unknown) => unknown;

interface AdapterLike {
  createMiddlewareFactory?(method: unknown): unknown;
}

/**
 * Watches the adapter's public `createMiddlewareFactory` (what Nest mounts each middleware
 * through) so the functions it mounts are known. Call before Nest registers the middleware,
 * i.e. from a module's `configure()`; once per adapter.
 */
export function watchNestMiddleware(adapter: unknown): void {
  if (typeof adapter !== 'object' || adapter === null || watched.has(adapter))
    return;
  const target = adapter as AdapterLike;
  const original = target.createMiddlewareFactory;
  if (typeof original !== 'function') return;
  watched.add(adapter);
  target.createMiddlewareFactory = function createMiddlewareFactory(
    this: unknown,
    method: unknown,
  ): unknown {
    const factory: unknown = original.call(this, method);
    return factory instanceof Promise
      ? factory.then(recording)
      : recording(factory);
  };
}

/** Whether Nest mounted `handle` as middleware. */
export function isNestMiddleware(handle: unknown): boolean {
  return (
    (typeof handle === 'function' || typeof handle === 'object') &&
    handle !== null &&
    middlewareHandlers.has(handle)
  );
}

function recording(register: unknown): unknown {
  if (typeof register !== 'function') return register;
  return function registerMiddleware(
    this: unknown,
    path: unknown,
    callback: unknown,
  ): unknown {
    if (typeof callback === 'function') middlewareHandlers.add(callback);
    return (register as Register).call(this, path, callback);
  };
}
