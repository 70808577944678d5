/**
 * What the library reads of `@nestjs/graphql` and its drivers beyond their documented API:
 * `GraphQLModule` registers the driver under the token `AbstractGraphQLDriver` and, in its own
 * `onModuleInit`, calls the driver's (public) `start(options)` with the complete options (the
 * schema built, the driver's defaults merged). Measuring hooks into that call to add an Apollo
 * Server plugin, graphql-ws hooks or Mercurius hooks to those options: public APIs of Apollo
 * Server, graphql-ws and Mercurius, and documented options of `@nestjs/apollo` and
 * `@nestjs/mercurius`. Nothing here imports any of these packages.
 */
import type { InstanceWrapper } from '@nestjs/core/injector/instance-wrapper.js';
import { reportDegraded } from './degraded.js';

/** The token `GraphQLModule` provides its driver under, by name (the package is optional). */
export const DRIVER_TOKEN_NAME = 'AbstractGraphQLDriver';

export type GraphqlDriverKind = 'apollo' | 'mercurius';

/** A GraphQL driver of the app, and which plugin API its options take. */
export interface FoundDriver {
  readonly wrapper: InstanceWrapper;
  readonly kind: GraphqlDriverKind | undefined;
}

/** The wrappers of the app's GraphQL drivers (one per `GraphQLModule.forRoot`). */
export function graphqlDriverWrappers(
  wrappers: Iterable<InstanceWrapper>,
): InstanceWrapper[] {
  const found: InstanceWrapper[] = [];
  for (const wrapper of wrappers) {
    const token = wrapper.token as { name?: unknown } | string | symbol;
    if (
      typeof token === 'function' &&
      (token as { name?: unknown }).name === DRIVER_TOKEN_NAME &&
      !wrapper.isAlias
    )
      found.push(wrapper);
  }
  return found;
}

/**
 * Which driver an instance is, by the classes it descends from: `ApolloBaseDriver` (the Apollo,
 * federation and gateway drivers of `@nestjs/apollo`) or a `Mercurius…Driver` of
 * `@nestjs/mercurius`. Undefined, after one warning, for any other driver.
 */
export function driverKind(instance: unknown): GraphqlDriverKind | undefined {
  for (
    let proto: unknown = Object.getPrototypeOf(instance);
    proto !== null && proto !== undefined && proto !== Object.prototype;
    proto = Object.getPrototypeOf(proto)
  ) {
    const name = (proto as { constructor?: { name?: unknown } }).constructor
      ?.name;
    if (name === 'ApolloBaseDriver') return 'apollo';
    if (typeof name === 'string' && /^Mercurius\w*Driver$/.test(name))
      return 'mercurius';
  }
  reportDegraded({
    internal: `@nestjs/graphql: the driver ${driverName(instance)}`,
    loss: 'its GraphQL operations are not measured (transport "graphql"); the HTTP requests carrying them still are',
  });
  return undefined;
}

/**
 * Makes the driver instance call `prepare(options)` on the options `GraphQLModule` starts it with,
 * before it starts. Only this app's driver instance is changed. Returns false, after one warning,
 * when the instance has no `start` method.
 */
export function beforeDriverStart(
  driver: unknown,
  prepare: (options: Record<string, unknown>) => Promise<void> | void,
): boolean {
  const target = driver as { start?: unknown } | null;
  const start = target?.start;
  if (typeof start !== 'function') {
    reportDegraded({
      internal: `@nestjs/graphql: ${driverName(driver)}.start(options)`,
      loss: 'GraphQL operations are not measured (transport "graphql"); the HTTP requests carrying them still are',
    });
    return false;
  }
  target!.start = async function (this: unknown, options: unknown) {
    if (options !== null && typeof options === 'object') {
      try {
        await prepare(options as Record<string, unknown>);
      } catch {
        // Never keep the GraphQL server from starting: it starts unmeasured.
      }
    }
    return (start as (o: unknown) => unknown).call(this, options);
  };
  return true;
}

function driverName(instance: unknown): string {
  const name = (instance as { constructor?: { name?: unknown } } | null)
    ?.constructor?.name;
  return typeof name === 'string' ? name : 'driver';
}
