import { INTERCEPTORS_METADATA } from '@nestjs/common/constants.js';
import type { InstanceWrapper } from '@nestjs/core/injector/instance-wrapper.js';

// Metadata keys of @nestjs/common, @nestjs/microservices and @nestjs/websockets, spelled out so
// that neither optional package is loaded by apps that do not use it.
export const ROUTE_PATH_METADATA = 'path';
export const PATTERN_METADATA = 'microservices:pattern';
export const PATTERN_HANDLER_METADATA = 'microservices:handler_type';
export const EVENT_HANDLER = 2;
export const GATEWAY_METADATA = 'websockets:is_gateway';
export const MESSAGE_MAPPING_METADATA = 'websockets:message_mapping';
export const MESSAGE_METADATA = 'message';

/** A `@WebSocketGateway()` class provider. */
export function isGateway(wrapper: InstanceWrapper): boolean {
  return (
    typeof wrapper.metatype === 'function' &&
    !wrapper.inject &&
    Reflect.getMetadata(GATEWAY_METADATA, wrapper.metatype) === true
  );
}

/** A method Nest calls from its prototype (a route or a handler), which wrapping would miss. */
export function isDispatchedByNest(method: object): boolean {
  return (
    Reflect.getMetadata(ROUTE_PATH_METADATA, method) !== undefined ||
    Reflect.getMetadata(PATTERN_METADATA, method) !== undefined ||
    Reflect.getMetadata(MESSAGE_MAPPING_METADATA, method) !== undefined
  );
}

/**
 * Puts `own` first in the `@UseInterceptors` metadata of a class or method, in place of any
 * interceptor carrying `mark` that another app of this process left there (one record per call);
 * with `own` undefined, only removes those.
 */
export function replaceMarkedInterceptor(
  target: object,
  mark: symbol,
  own: object | undefined,
): void {
  const others = interceptorsOf(target).filter(
    (interceptor) =>
      !(
        interceptor !== null &&
        typeof interceptor === 'object' &&
        mark in interceptor
      ),
  );
  setInterceptors(target, own === undefined ? others : [own, ...others]);
}

/** Takes `own` off the `@UseInterceptors` metadata of a class or method. */
export function removeInterceptor(target: object, own: object): void {
  const current = interceptorsOf(target);
  if (current.includes(own))
    setInterceptors(
      target,
      current.filter((interceptor) => interceptor !== own),
    );
}

function interceptorsOf(target: object): unknown[] {
  const current: unknown = Reflect.getMetadata(INTERCEPTORS_METADATA, target);
  return Array.isArray(current) ? current : [];
}

function setInterceptors(target: object, interceptors: unknown[]): void {
  Reflect.defineMetadata(INTERCEPTORS_METADATA, interceptors, target);
}
