import type { InstanceWrapper } from '@nestjs/core/injector/instance-wrapper.js';
import { nestCommonKeys, nestTransportKeys } from './compat/nest.js';

/** A `@WebSocketGateway()` class provider. */
export function isGateway(wrapper: InstanceWrapper): boolean {
  return (
    typeof wrapper.metatype === 'function' &&
    !wrapper.inject &&
    Reflect.getMetadata(nestTransportKeys().gateway, wrapper.metatype) === true
  );
}

/** A method Nest dispatches itself when its class is a controller or gateway (a route or a handler). */
export function isDispatchedByNest(method: object): boolean {
  const keys = nestTransportKeys();
  return (
    Reflect.getMetadata(nestCommonKeys().routePath, method) !== undefined ||
    Reflect.getMetadata(keys.pattern, method) !== undefined ||
    Reflect.getMetadata(keys.messageMapping, method) !== undefined
  );
}
