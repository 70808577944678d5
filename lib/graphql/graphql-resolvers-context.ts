import {
  type HandlerContext,
  type HandlerContextSwitch,
  runInHandlerContext,
} from '../context/handler-context.js';
import type { GraphqlInstrumentation } from './graphql-instrumentation.js';

type Resolver = (
  this: unknown,
  root: unknown,
  args: unknown,
  context: unknown,
  info: unknown,
) => unknown;

interface SchemaField {
  resolve?: unknown;
  subscribe?: unknown;
}

/** Marks the functions put in place here, so a schema is never wrapped twice. */
const IN_OPERATION_CONTEXT = Symbol('nestjs-metrics:graphql-handler-context');

/**
 * Makes every resolver of `schema` run as the code of the operation it resolves for, once a
 * metric of the app asks for `handlerLabels`: each field's `resolve` (queries, mutations, field
 * resolvers of any type, a subscription's `resolve` per event) and `subscribe` function (graphql-js
 * `GraphQLField`, a public API) is wrapped. While the switch is off the wrapper only checks it
 * and calls the resolver. When on, the context is that of the operation in `info.operation`
 * (`transport` `graphql`, `route` as the request families record it), entered around the call,
 * so it wins over the HTTP request that carried the operation; a subscription's event stream
 * gets it around each `next()`, `return()` and `throw()` of its iterator.
 */
export function runResolversInOperationContext(
  schema: unknown,
  instrumentation: GraphqlInstrumentation,
  contextSwitch: HandlerContextSwitch,
): void {
  const types = (
    schema as { getTypeMap?: () => Record<string, unknown> } | null
  )?.getTypeMap?.();
  if (types === undefined || types === null) return;
  for (const [typeName, type] of Object.entries(types)) {
    if (typeName.startsWith('__')) continue;
    const getFields = (type as { getFields?: unknown } | null)?.getFields;
    // Input objects have fields without resolvers; scalars, enums and unions have none.
    if (typeof getFields !== 'function') continue;
    const fields = (getFields as () => Record<string, SchemaField>).call(type);
    for (const field of Object.values(fields)) {
      if (isResolver(field.resolve))
        field.resolve = inOperationContext(
          field.resolve,
          instrumentation,
          contextSwitch,
          false,
        );
      if (isResolver(field.subscribe))
        field.subscribe = inOperationContext(
          field.subscribe,
          instrumentation,
          contextSwitch,
          true,
        );
    }
  }
}

function isResolver(value: unknown): value is Resolver {
  return (
    typeof value === 'function' && !(IN_OPERATION_CONTEXT in (value as object))
  );
}

function inOperationContext(
  resolver: Resolver,
  instrumentation: GraphqlInstrumentation,
  contextSwitch: HandlerContextSwitch,
  subscribe: boolean,
): Resolver {
  const wrapped = function (
    this: unknown,
    root: unknown,
    args: unknown,
    context: unknown,
    info: unknown,
  ): unknown {
    if (!contextSwitch.on)
      return resolver.call(this, root, args, context, info);
    const entered = instrumentation.handlerContext(
      (info as { operation?: unknown } | null | undefined)?.operation,
    );
    if (entered === undefined)
      return resolver.call(this, root, args, context, info);
    const result = runInHandlerContext(entered, () =>
      resolver.call(this, root, args, context, info),
    );
    if (!subscribe) return result;
    return isPromiseLike(result)
      ? Promise.resolve(result).then((stream) => streamIn(entered, stream))
      : streamIn(entered, result);
  };
  Object.defineProperty(wrapped, IN_OPERATION_CONTEXT, { value: true });
  return wrapped;
}

type Step = (value?: unknown) => Promise<IteratorResult<unknown>>;

/** A subscription's event stream whose iterator runs in `entered`; anything else as it is. */
function streamIn(entered: HandlerContext, stream: unknown): unknown {
  const open = (stream as { [Symbol.asyncIterator]?: unknown } | null)?.[
    Symbol.asyncIterator
  ];
  if (typeof open !== 'function') return stream;
  return {
    [Symbol.asyncIterator]() {
      const iterator = runInHandlerContext(entered, () =>
        (open as () => Record<string, unknown> | null | undefined).call(stream),
      );
      if (typeof iterator?.next !== 'function') return iterator;
      const step = (name: 'next' | 'return' | 'throw'): Step | undefined => {
        const call = iterator[name];
        if (typeof call !== 'function') return undefined;
        return (value?: unknown) =>
          runInHandlerContext(entered, () =>
            (call as Step).call(iterator, value),
          );
      };
      const wrapped: AsyncIterator<unknown> & Record<symbol, unknown> = {
        next: step('next')!,
        [Symbol.asyncIterator]() {
          return this;
        },
      };
      const finish = step('return');
      if (finish !== undefined) wrapped.return = finish;
      const raise = step('throw');
      if (raise !== undefined) wrapped.throw = raise;
      return wrapped;
    },
  };
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return (
    value !== null &&
    (typeof value === 'object' || typeof value === 'function') &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}
