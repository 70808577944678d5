// ---------------------------------------------------------------------------------------------
// Nest metadata keys and injector: what @Timed/@Counted, the transport binder and the queue
// lifecycle read or set of Nest's non-public shapes. Each is found (or checked) once by decorating
// a probe with the public decorator and reading its metadata back.
// ---------------------------------------------------------------------------------------------
import {
  Get,
  Logger,
  UseInterceptors,
  type LoggerService,
  type NestInterceptor,
} from '@nestjs/common';
import type { InstanceWrapper } from '@nestjs/core/injector/instance-wrapper.js';
import type { Module as NestModule } from '@nestjs/core/injector/module.js';
import { STATIC_CONTEXT } from '@nestjs/core/injector/constants.js';
import { reportDegraded } from './degraded.js';

type Class = abstract new (...args: never[]) => unknown;

/** The metadata keys this version of the library expects, as Nest spells them. */
export const EXPECTED_NEST_KEYS = {
  interceptors: '__interceptors__',
  routePath: 'path',
  pattern: 'microservices:pattern',
  patternHandler: 'microservices:handler_type',
  gateway: 'websockets:is_gateway',
  messageMapping: 'websockets:message_mapping',
  message: 'message',
} as const;

/** `@EventPattern` handlers carry this handler type; `@MessagePattern` ones `1`. */
export const EVENT_HANDLER = 2;

interface NestKeys {
  interceptors: string | undefined;
  routePath: string;
  pattern: string;
  patternHandler: string;
  gateway: string;
  messageMapping: string;
  message: string;
}

let commonKeys: Pick<NestKeys, 'interceptors' | 'routePath'> | undefined;
const transportKeys: Omit<NestKeys, 'interceptors' | 'routePath'> = {
  pattern: EXPECTED_NEST_KEYS.pattern,
  patternHandler: EXPECTED_NEST_KEYS.patternHandler,
  gateway: EXPECTED_NEST_KEYS.gateway,
  messageMapping: EXPECTED_NEST_KEYS.messageMapping,
  message: EXPECTED_NEST_KEYS.message,
};

/**
 * The key under which `target` holds a matching value among its own metadata: `expected` when it
 * does, else the first match.
 */
function keyHolding(
  target: object,
  matches: (value: unknown) => boolean,
  expected?: string,
): string | undefined {
  if (
    expected !== undefined &&
    matches(Reflect.getOwnMetadata(expected, target))
  )
    return expected;
  for (const key of Reflect.getOwnMetadataKeys(target)) {
    if (typeof key !== 'string') continue;
    if (matches(Reflect.getOwnMetadata(key, target))) return key;
  }
  return undefined;
}

class ProbeInterceptor implements NestInterceptor {
  intercept(): never {
    throw new Error('probe');
  }
}

/** Decorates a probe with `@UseInterceptors` and `@Get` of `@nestjs/common` and reads the keys back. */
function probeCommonKeys(): Pick<NestKeys, 'interceptors' | 'routePath'> {
  class Probe {
    handler(): void {}
  }
  const descriptor = Object.getOwnPropertyDescriptor(
    Probe.prototype,
    'handler',
  )!;
  UseInterceptors(ProbeInterceptor)(Probe.prototype, 'handler', descriptor);
  Get('nestjs-metrics-probe')(Probe.prototype, 'handler', descriptor);
  const interceptors = keyHolding(
    descriptor.value as object,
    (value) => Array.isArray(value) && value.includes(ProbeInterceptor),
    EXPECTED_NEST_KEYS.interceptors,
  );
  const routePath = keyHolding(
    descriptor.value as object,
    (value) => value === 'nestjs-metrics-probe',
    EXPECTED_NEST_KEYS.routePath,
  );
  if (interceptors === undefined)
    reportDegraded({
      internal: '@nestjs/common: the @UseInterceptors metadata key',
      loss: '@Timed/@Counted on a route run after the interceptors declared below them on the method (their time leaves those out)',
    });
  if (routePath === undefined)
    reportDegraded({
      internal: '@nestjs/common: the route path metadata key',
      loss: `routes are recognised by the key "${EXPECTED_NEST_KEYS.routePath}"; a route with @Timed/@Counted that it misses may be measured twice`,
    });
  return {
    interceptors,
    routePath: routePath ?? EXPECTED_NEST_KEYS.routePath,
  };
}

/** Metadata keys of `@nestjs/common`, found once per process (at the first decorated class). */
export function nestCommonKeys(): Pick<NestKeys, 'interceptors' | 'routePath'> {
  if (commonKeys === undefined) {
    try {
      commonKeys = probeCommonKeys();
    } catch {
      // A decorator that throws on the probe: never fail the import of the app's classes.
      commonKeys = {
        interceptors: undefined,
        routePath: EXPECTED_NEST_KEYS.routePath,
      };
      reportDegraded({
        internal: '@nestjs/common: @UseInterceptors/@Get on a probe',
        loss: '@Timed/@Counted on a route run after the interceptors declared below them on the method (their time leaves those out)',
      });
    }
  }
  return commonKeys;
}

/** Metadata keys of `@nestjs/microservices` and `@nestjs/websockets` (checked by `checkTransportKeys`). */
export function nestTransportKeys(): Readonly<
  Omit<NestKeys, 'interceptors' | 'routePath'>
> {
  return transportKeys;
}

/**
 * Checks the keys of the optional transport packages against probes decorated with their own
 * decorators. It only loads a package that the app has loaded already (one of its metadata keys
 * was seen on a class), so apps without it load nothing.
 */
export async function checkTransportKeys(seen: {
  microservices: boolean;
  websockets: boolean;
}): Promise<void> {
  if (seen.microservices) {
    try {
      const { MessagePattern, EventPattern } =
        await import('@nestjs/microservices');
      class Probe {
        message(): void {}
        event(): void {}
      }
      const proto = Probe.prototype;
      const m = Object.getOwnPropertyDescriptor(proto, 'message')!;
      const e = Object.getOwnPropertyDescriptor(proto, 'event')!;
      MessagePattern('nestjs-metrics-probe')(proto, 'message', m);
      EventPattern('nestjs-metrics-probe')(proto, 'event', e);
      const pattern = keyHolding(
        m.value as object,
        (v) => Array.isArray(v) && v.includes('nestjs-metrics-probe'),
        EXPECTED_NEST_KEYS.pattern,
      );
      const patternHandler = keyHolding(
        e.value as object,
        (v) => v === EVENT_HANDLER,
        EXPECTED_NEST_KEYS.patternHandler,
      );
      if (pattern !== undefined) transportKeys.pattern = pattern;
      if (patternHandler !== undefined)
        transportKeys.patternHandler = patternHandler;
      if (pattern === undefined || patternHandler === undefined)
        reportDegraded({
          internal:
            '@nestjs/microservices: the @MessagePattern/@EventPattern metadata keys',
          loss: 'microservice handlers the library cannot recognise are not measured (transport "rpc")',
        });
    } catch {
      // The package that set a "microservices:" key is not resolvable from here: keep the defaults.
    }
  }
  if (seen.websockets) {
    try {
      const { WebSocketGateway, SubscribeMessage } =
        await import('@nestjs/websockets');
      class Probe {
        handler(): void {}
      }
      const d = Object.getOwnPropertyDescriptor(Probe.prototype, 'handler')!;
      SubscribeMessage('nestjs-metrics-probe')(Probe.prototype, 'handler', d);
      WebSocketGateway()(Probe);
      const gateway = keyHolding(
        Probe,
        (v) => v === true,
        EXPECTED_NEST_KEYS.gateway,
      );
      const message = keyHolding(
        d.value as object,
        (v) => v === 'nestjs-metrics-probe',
        EXPECTED_NEST_KEYS.message,
      );
      const messageMapping = keyHolding(
        d.value as object,
        (v) => v === true,
        EXPECTED_NEST_KEYS.messageMapping,
      );
      if (gateway !== undefined) transportKeys.gateway = gateway;
      if (message !== undefined) transportKeys.message = message;
      if (messageMapping !== undefined)
        transportKeys.messageMapping = messageMapping;
      if (
        gateway === undefined ||
        message === undefined ||
        messageMapping === undefined
      )
        reportDegraded({
          internal:
            '@nestjs/websockets: the @WebSocketGateway/@SubscribeMessage metadata keys',
          loss: 'gateway handlers the library cannot recognise are not measured (transport "ws")',
        });
    } catch {
      // As above: keep the defaults.
    }
  }
}

/** Which transport packages set metadata on the class or its methods (their keys' prefixes). */
export function transportPackagesOf(
  metatype: Class,
  methodNames: readonly string[],
): { microservices: boolean; websockets: boolean } {
  return {
    microservices: hasMetadataPrefix(metatype, methodNames, 'microservices:'),
    websockets: hasMetadataPrefix(metatype, methodNames, 'websockets:'),
  };
}

/** True when a metadata key of the class or of one of its methods starts with `prefix`. */
function hasMetadataPrefix(
  metatype: Class,
  methodNames: Iterable<string>,
  prefix: string,
): boolean {
  const has = (target: object) =>
    Reflect.getMetadataKeys(target).some(
      (key) => typeof key === 'string' && key.startsWith(prefix),
    );
  if (has(metatype)) return true;
  const prototype = metatype.prototype as Record<string, unknown>;
  for (const name of methodNames) {
    const method = prototype[name];
    if (typeof method === 'function' && has(method)) return true;
  }
  return false;
}

/** Reads the `@UseInterceptors` metadata of a class or method (empty when the key is unknown). */
export function interceptorsOf(target: object): unknown[] {
  const key = nestCommonKeys().interceptors;
  if (key === undefined) return [];
  const current: unknown = Reflect.getMetadata(key, target);
  return Array.isArray(current) ? current : [];
}

/**
 * Puts `interceptor` first in the `@UseInterceptors` metadata of a class or method (once). Without
 * the key, falls back to the public `@UseInterceptors`, which appends it.
 */
export function prependInterceptor(
  target: object,
  interceptor: Class | object,
): void {
  const key = nestCommonKeys().interceptors;
  if (key === undefined) {
    // A method (or class) is decorated through a descriptor holding it.
    try {
      UseInterceptors(interceptor as never)({}, 'method', {
        value: target,
      } as PropertyDescriptor);
    } catch {
      reportDegraded({
        internal: '@nestjs/common: @UseInterceptors',
        loss: '@Timed/@Counted routes and rpc/ws handlers are not measured',
      });
    }
    return;
  }
  const current = interceptorsOf(target);
  if (current[0] === interceptor) return;
  Reflect.defineMetadata(
    key,
    [interceptor, ...current.filter((i) => i !== interceptor)],
    target,
  );
}

/** Takes `interceptor` off the `@UseInterceptors` metadata of a class or method. */
export function removeInterceptor(target: object, interceptor: object): void {
  const key = nestCommonKeys().interceptors;
  if (key === undefined) return;
  const current = interceptorsOf(target);
  if (current.includes(interceptor))
    Reflect.defineMetadata(
      key,
      current.filter((i) => i !== interceptor),
      target,
    );
}

// ---------------------------------------------------------------------------------------------
// The injector: one app's interceptor instance for a class reference, a hook on the instances of
// a scoped provider, and the metrics module's place in the lifecycle hook order.
// ---------------------------------------------------------------------------------------------

type Wrapper = InstanceWrapper<unknown>;

/** The shape of an `InstanceWrapper` and a `Module` that `provideInterceptor` relies on. */
function isProvidable(host: unknown, sample: unknown): boolean {
  return (
    host !== null &&
    typeof host === 'object' &&
    (host as { injectables?: unknown }).injectables instanceof Map &&
    sample !== null &&
    typeof sample === 'object' &&
    typeof (sample as Wrapper).getInstanceByContextId === 'function' &&
    typeof (sample as object).constructor === 'function'
  );
}

/**
 * Makes Nest resolve the class reference `classRef`, in the interceptor metadata of handlers of
 * the module `host`, to `instance`: Nest's `InterceptorsContextCreator` looks a class up among the
 * module's `injectables`. The entry is built through the constructor of `sample`, a wrapper the
 * caller holds. Returns false (after one warning) when the shapes are not as expected.
 */
export function provideInterceptor(
  host: unknown,
  sample: unknown,
  classRef: Class,
  instance: NestInterceptor,
): boolean {
  if (!isProvidable(host, sample)) {
    reportDegraded({
      internal: '@nestjs/core: Module.injectables / InstanceWrapper',
      loss: 'with two apps created before either starts, rpc/ws messages may be recorded by the app created later',
    });
    return false;
  }
  const WrapperClass = (sample as object).constructor as new (
    metadata: object,
  ) => Wrapper;
  const injectables = (host as NestModule).injectables as Map<unknown, Wrapper>;
  const existing = injectables.get(classRef);
  if (existing?.instance === instance) return true;
  const wrapper = new WrapperClass({
    token: classRef,
    name: classRef.name,
    metatype: classRef,
    instance,
    isResolved: true,
    host,
  });
  // The `instance` getter reads the static context, as the context creator does.
  if (wrapper.instance !== instance) {
    reportDegraded({
      internal: '@nestjs/core: InstanceWrapper',
      loss: 'with two apps created before either starts, rpc/ws messages may be recorded by the app created later',
    });
    return false;
  }
  injectables.set(classRef, wrapper);
  return true;
}

/**
 * Calls `created(instance)` for every instance Nest creates of the class provider `wrapper`
 * from now on (request-scoped and transient providers get one per request or consumer), by
 * giving the wrapper a subclass of its class that Nest instantiates instead. The subclass keeps
 * the class's name, metadata (inherited), `instanceof` and `constructor`. Returns false when the
 * wrapper is not a plain class provider.
 */
export function onInstanceCreated(
  wrapper: Wrapper,
  created: (instance: object) => void,
): boolean {
  const metatype = wrapper.metatype as new (...args: unknown[]) => object;
  if (
    typeof metatype !== 'function' ||
    wrapper.inject ||
    !('metatype' in wrapper) ||
    metatype.prototype === undefined
  )
    return false;
  const existing = (metatype as { [HOOKED]?: Array<(i: object) => void> })[
    HOOKED
  ];
  if (existing !== undefined) {
    existing.push(created);
    return true;
  }
  const hooks = [created];
  const Hooked = class extends metatype {
    constructor(...args: unknown[]) {
      super(...args);
      for (const hook of hooks) hook(this);
    }
  };
  Object.defineProperty(Hooked, 'name', { value: metatype.name });
  Object.defineProperty(Hooked, HOOKED, { value: hooks });
  // `instance.constructor` stays the app's class, so `context.getClass()` and labels do not change.
  Object.defineProperty(Hooked.prototype, 'constructor', {
    value: metatype,
    configurable: true,
    writable: true,
  });
  wrapper.metatype = Hooked as never;
  return true;
}

const HOOKED = Symbol('nestjs-metrics:instance-hooks');

/**
 * Calls `use(instance)` with the single instance of the static class provider `wrapper`: now when
 * Nest has created it already, else as Nest creates it (`onInstanceCreated`). Returns false when
 * neither is possible (not a plain class provider).
 */
export function withStaticInstance(
  wrapper: Wrapper,
  use: (instance: object) => void,
): boolean {
  try {
    const host = wrapper.getInstanceByContextId(STATIC_CONTEXT);
    if (
      host?.isResolved &&
      host.instance !== null &&
      typeof host.instance === 'object'
    ) {
      use(host.instance);
      return true;
    }
  } catch {
    // Not the shape expected: hook the creation instead.
  }
  return onInstanceCreated(wrapper, use);
}

/**
 * Calls `created(value)` for every value the factory provider `wrapper` returns from now on (a
 * request-scoped factory runs once per request), by giving the wrapper a function that calls the
 * factory and passes its result on unchanged (a Promise settles the same way). Returns false when
 * the wrapper is not a factory provider.
 */
export function onFactoryResult(
  wrapper: Wrapper,
  created: (value: unknown) => void,
): boolean {
  const factory = wrapper.metatype as unknown as (
    ...args: unknown[]
  ) => unknown;
  if (typeof factory !== 'function' || !wrapper.inject) return false;
  const produce = function (this: unknown, ...args: unknown[]) {
    const result = factory.apply(this, args);
    if (
      result !== null &&
      typeof result === 'object' &&
      typeof (result as PromiseLike<unknown>).then === 'function'
    )
      return (result as PromiseLike<unknown>).then((value) => {
        created(value);
        return value;
      });
    created(result);
    return result;
  };
  Object.defineProperty(produce, 'name', { value: factory.name });
  wrapper.metatype = produce as never;
  return true;
}

/**
 * Runs the lifecycle hooks of the module that holds `provider` before every other module's, and
 * so its shutdown hooks after theirs: Nest sorts modules by `distance`, descending (global modules
 * sit at `Number.MAX_VALUE`), and reads it when the app first runs its hooks. Call it while the
 * app is being instantiated. Returns false when the module cannot be found or moved.
 */
export function runHooksFirst(
  modules: Iterable<unknown>,
  provider: unknown,
): boolean {
  let moved = false;
  for (const module of modules) {
    if (module === null || typeof module !== 'object') continue;
    const providers = (module as { providers?: unknown }).providers;
    if (!(providers instanceof Map) || !providers.has(provider)) continue;
    if (findAccessor(module, 'distance')?.set === undefined) return false;
    const target = module as { distance: number };
    target.distance = Number.POSITIVE_INFINITY;
    if (target.distance !== Number.POSITIVE_INFINITY) return false;
    moved = true;
  }
  return moved;
}

function findAccessor(
  target: object,
  name: string,
): PropertyDescriptor | undefined {
  for (
    let proto: object | null = target;
    proto;
    proto = Object.getPrototypeOf(proto) as object | null
  ) {
    const descriptor = Object.getOwnPropertyDescriptor(proto, name);
    if (descriptor) return descriptor;
  }
  return undefined;
}

// ---- ExceptionsHandler (HTTP exception capture) -------------------------------------------
// A section of its own, so that other Nest internals can sit in this file beside it: its imports
// are aliased and its names prefixed, so sections never declare the same name.
import type { ArgumentsHost as ExceptionHost } from '@nestjs/common';
import { reportDegraded as reportExceptionsHandlerDegraded } from './degraded.js';

type ExceptionsHandlerNext = (exception: unknown, host: ExceptionHost) => void;

/** `ExceptionsHandler.prototype.next`, reached through a deep import of `@nestjs/core`. */
export const EXCEPTIONS_HANDLER_NEXT = {
  internal:
    '@nestjs/core: ExceptionsHandler.prototype.next (@nestjs/core/exceptions/exceptions-handler.js)',
  loss: 'error_type of route exceptions from the status alone (400 is client_error, never validation; a TimeoutError answered 500 is internal)',
};

/** The prototypes this copy of the library wrapped: each copy wraps at most once, privately. */
const exceptionsHandlerWrappedByThisCopy = new WeakSet<object>();

/**
 * Wraps Nest's `ExceptionsHandler.prototype.next` once for this copy of the library, so that
 * `note(exception, host)` sees every exception of an HTTP route before the app's filters run;
 * resolves with false (after one warning) when the method is not there or cannot be replaced.
 * The wrapper calls the method that was in place before it with the same arguments, so another
 * copy's wrapper (or Nest's own method) runs unchanged.
 */
export async function wrapExceptionsHandlerNext(
  note: (exception: unknown, host: ExceptionHost) => void,
): Promise<boolean> {
  let prototype: Record<string, unknown> | undefined;
  try {
    const module =
      (await import('@nestjs/core/exceptions/exceptions-handler.js')) as unknown as {
        ExceptionsHandler?: { prototype?: Record<string, unknown> };
      };
    prototype = module.ExceptionsHandler?.prototype;
  } catch {
    prototype = undefined;
  }
  if (prototype === undefined) {
    reportExceptionsHandlerDegraded(EXCEPTIONS_HANDLER_NEXT);
    return false;
  }
  if (exceptionsHandlerWrappedByThisCopy.has(prototype)) return true;
  const descriptor = Object.getOwnPropertyDescriptor(prototype, 'next');
  const next = descriptor?.value as ExceptionsHandlerNext | undefined;
  if (
    typeof next !== 'function' ||
    descriptor?.writable !== true ||
    next.length !== 2
  ) {
    reportExceptionsHandlerDegraded(EXCEPTIONS_HANDLER_NEXT);
    return false;
  }
  prototype.next = function (
    this: unknown,
    exception: unknown,
    host: ExceptionHost,
  ) {
    try {
      note(exception, host);
    } catch {
      // Recording never gets in the way of the app's exception handling.
    }
    return next.call(this, exception, host);
  };
  exceptionsHandlerWrappedByThisCopy.add(prototype);
  return true;
}
// ---- end ExceptionsHandler ----------------------------------------------------------------

// --- Logger (the static logger `Logger.overrideLogger()` sets) ------------------------------------

/** `Logger.staticInstanceRef` (protected): the logger every `new Logger(context)` forwards to. */
export const STATIC_LOGGER = {
  internal: '@nestjs/common: Logger.staticInstanceRef',
  loss: 'a logger installed by logErrors.logger stays installed after app.close()',
};

/**
 * The static logger now in use: a logger, `false` when logging is off (`logger: false`), or
 * `undefined` (and one warning) when it cannot be read.
 */
export function staticLogger(): LoggerService | false | undefined {
  if (!('staticInstanceRef' in Logger)) {
    reportDegraded(STATIC_LOGGER);
    return undefined;
  }
  const ref = (Logger as unknown as { staticInstanceRef?: unknown })
    .staticInstanceRef;
  if (ref === undefined) return false;
  if (ref === null || typeof ref !== 'object') {
    reportDegraded(STATIC_LOGGER);
    return undefined;
  }
  return ref as LoggerService;
}
