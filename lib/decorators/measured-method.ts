import { prependInterceptor } from '../compat/nest.js';
import { HandlerMetricsInterceptor } from '../interceptors/handler-metrics.interceptor.js';
import { measureCall, type MethodInstrument } from '../method-instrument.js';

type Method = (this: unknown, ...args: unknown[]) => unknown;

/** The function a measured method wraps, by wrapper. Module-local: another copy of the library has its own. */
const originals = new WeakMap<Method, Method>();

/** Each app's instruments, by instance (one app makes an instance), then by measured method. */
const instrumentsByInstance = new WeakMap<
  object,
  Map<Method, MethodInstrument>
>();

/**
 * Instances with instruments now (request-scoped ones made later are never taken off, so this
 * only over-counts). While it is 0, as in an app with `enabled: false`, a call skips the lookup.
 */
let boundInstances = 0;

/** True for a method that `@Timed`/`@Counted` replaced with a measured one. */
export function isMeasuredMethod(method: unknown): boolean {
  return typeof method === 'function' && originals.has(method as Method);
}

/**
 * Calls of `method` (a measured method) on `instance` are recorded by `instrument` from now on.
 * Set by the explorer at start-up, for the methods Nest does not dispatch itself.
 */
export function bindInstrument(
  instance: object,
  method: object,
  instrument: MethodInstrument,
): void {
  let byMethod = instrumentsByInstance.get(instance);
  if (byMethod === undefined) {
    byMethod = new Map();
    instrumentsByInstance.set(instance, byMethod);
    boundInstances += 1;
  }
  byMethod.set(method as Method, instrument);
}

/** Stops recording calls on `instance` (its app closed). */
export function unbindInstance(instance: object): void {
  if (instrumentsByInstance.delete(instance)) boundInstances -= 1;
}

/**
 * A measured version of `original`, made once when the decorator is applied. A call finds the
 * instrument of its own app through `this` and passes straight through when there is none (no
 * metrics module, a route the interceptor measures, a plain object). It keeps the name, the
 * length and every reflect-metadata key of the original; results and throws are the original's.
 */
export function measuredMethod(original: Method): Method {
  if (originals.has(original)) return original;
  // `arguments`, not a rest parameter: handed on to `apply` it is never copied into an array
  // (about 20 instructions a call instead of 180 with `enabled: false`, counted with callgrind).
  const measured = function (this: unknown) {
    // eslint-disable-next-line prefer-rest-params
    const args = arguments as unknown as unknown[];
    if (boundInstances === 0) return original.apply(this, args);
    const instrument =
      this !== null && typeof this === 'object'
        ? instrumentsByInstance.get(this)?.get(measured)
        : undefined;
    if (instrument === undefined) return original.apply(this, args);
    return measureCall(instrument, original, this, args);
  };
  Object.defineProperty(measured, 'name', {
    value: original.name,
    configurable: true,
  });
  Object.defineProperty(measured, 'length', {
    value: original.length,
    configurable: true,
  });
  for (const key of Reflect.getOwnMetadataKeys(original))
    Reflect.defineMetadata(
      key,
      Reflect.getOwnMetadata(key, original),
      measured,
    );
  originals.set(measured, original);
  // Routes and message handlers are measured by the interceptor, which Nest resolves per app.
  prependInterceptor(measured, HandlerMetricsInterceptor);
  return measured;
}

/**
 * A decorator that stores `value` under `key` and measures the method, or every method of the
 * class (its own and inherited ones, each replaced by a measured one on the class's prototype).
 */
export function measuredDecorator<T>(
  key: string,
  value: T,
): ClassDecorator & MethodDecorator {
  return ((
    target: object,
    propertyKey?: string | symbol,
    descriptor?: PropertyDescriptor,
  ) => {
    if (descriptor !== undefined) {
      if (typeof descriptor.value !== 'function') {
        Reflect.defineMetadata(key, value, descriptor.value as object);
        return descriptor;
      }
      descriptor.value = measuredMethod(descriptor.value as Method);
      Reflect.defineMetadata(key, value, descriptor.value as object);
      return descriptor;
    }
    Reflect.defineMetadata(key, value, target);
    measureEveryMethod(target as abstract new () => unknown);
    return target;
  }) as ClassDecorator & MethodDecorator;
}

function measureEveryMethod(target: abstract new () => unknown): void {
  const prototype = target.prototype as object;
  const done = new Set<string>(['constructor']);
  for (
    let proto: object | null = prototype;
    proto !== null && proto !== Object.prototype;
    proto = Object.getPrototypeOf(proto) as object | null
  ) {
    for (const name of Object.getOwnPropertyNames(proto)) {
      if (done.has(name)) continue;
      done.add(name);
      const descriptor = Object.getOwnPropertyDescriptor(proto, name)!;
      if (typeof descriptor.value !== 'function') continue;
      const method = descriptor.value as Method;
      if (isMeasuredMethod(method)) continue;
      Object.defineProperty(prototype, name, {
        ...descriptor,
        value: measuredMethod(method),
      });
    }
  }
}
