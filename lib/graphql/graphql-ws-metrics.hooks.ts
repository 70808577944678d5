import type {
  GraphqlInstrumentation,
  GraphqlOperation,
  OperationDocument,
} from './graphql-instrumentation.js';
import { isAsyncIterable, resultBytes } from './graphql-instrumentation.js';

type Hook = (...args: never[]) => unknown;

/** A subscribe in progress: its operation, and its document text. */
interface Subscribe {
  readonly operation: GraphqlOperation;
  readonly query: unknown;
}

interface SubscribePayload {
  readonly query?: unknown;
  readonly variables?: unknown;
  readonly operationName?: unknown;
}

/** The graphql-ws server options this wraps (`ServerOptions` of `graphql-ws`, public). */
export interface GraphqlWsHooks {
  onSubscribe?: Hook;
  onOperation?: Hook;
  onError?: Hook;
  onComplete?: Hook;
  onClose?: Hook;
  [option: string]: unknown;
}

/**
 * Adds to graphql-ws server options (those `@nestjs/graphql` passes to `useServer` for the Apollo
 * driver's `subscriptions['graphql-ws']`) the hooks that make each subscribe one `graphql`
 * request: started in `onSubscribe`, recorded in `onOperation` (the subscription set up, or the
 * result of a query sent over the socket) or `onError` (refused), and, for a subscription, in
 * flight until `onComplete`, which graphql-ws calls when the client completes it, when its stream
 * ends and when the socket closes (with or without a close frame). The app's own hooks run as
 * before and what they return is returned.
 */
export function withGraphqlWsMetrics(
  instrumentation: GraphqlInstrumentation,
  given: GraphqlWsHooks,
  /** graphql-js `parse`: tells a subscribe graphql-ws gave up on without a hook that did not parse. */
  parse?: (source: string) => unknown,
): GraphqlWsHooks {
  const byConnection = new WeakMap<object, Map<string, Subscribe>>();
  const operationsOf = (ctx: unknown): Map<string, Subscribe> => {
    const key = typeof ctx === 'object' && ctx !== null ? ctx : byConnection;
    let operations = byConnection.get(key);
    if (operations === undefined) {
      operations = new Map();
      byConnection.set(key, operations);
    }
    return operations;
  };
  const safely = (record: () => void) => {
    try {
      record();
    } catch {
      // Recording never changes what graphql-ws does.
    }
  };
  const call = (hook: unknown, args: unknown[]) =>
    typeof hook === 'function'
      ? (hook as (...a: unknown[]) => unknown)(...args)
      : undefined;

  const parses = (query: unknown): boolean => {
    if (parse === undefined || typeof query !== 'string') return true;
    try {
      parse(query);
      return true;
    } catch {
      return false;
    }
  };

  return {
    ...given,
    onSubscribe: (ctx: unknown, id: string, payload: SubscribePayload) => {
      safely(() => {
        const operation = instrumentation.operationStarted(
          payload?.query,
          payload?.variables,
          payload?.operationName,
          'subscription',
        );
        if (operation !== undefined)
          operationsOf(ctx).set(id, { operation, query: payload?.query });
      });
      return call(given.onSubscribe, [ctx, id, payload]);
    },
    onOperation: async (
      ctx: unknown,
      id: string,
      payload: unknown,
      args: { document?: OperationDocument },
      result: unknown,
    ) => {
      const replaced = await call(given.onOperation, [
        ctx,
        id,
        payload,
        args,
        result,
      ]);
      const final = replaced ?? result;
      safely(() => {
        const operation = operationsOf(ctx).get(id)?.operation;
        if (isAsyncIterable(final))
          instrumentation.operationEnded(
            operation,
            { document: args?.document, responseBytes: 0 },
            true,
          );
        else
          instrumentation.operationEnded(operation, {
            document: args?.document,
            errors: (final as { errors?: readonly unknown[] })?.errors,
            responseBytes: resultBytes(final),
          });
      });
      return replaced;
    },
    onError: async (
      ctx: unknown,
      id: string,
      payload: unknown,
      errors: readonly unknown[],
    ) => {
      const replaced = await call(given.onError, [ctx, id, payload, errors]);
      safely(() =>
        instrumentation.operationEnded(operationsOf(ctx).get(id)?.operation, {
          errors,
          responseBytes: resultBytes(replaced ?? errors),
        }),
      );
      return replaced;
    },
    onComplete: (ctx: unknown, id: string, payload: unknown) => {
      safely(() => {
        const operations = operationsOf(ctx);
        instrumentation.operationAbandoned(operations.get(id)?.operation);
        operations.delete(id);
      });
      return call(given.onComplete, [ctx, id, payload]);
    },
    onClose: (ctx: unknown, code: unknown, reason: unknown) => {
      safely(() => {
        // Subscribes graphql-ws gave up on without a hook (it threw while handling the message,
        // and closed the socket): a document that did not parse, or an error of the app's code.
        const operations = operationsOf(ctx);
        for (const { operation, query } of operations.values())
          instrumentation.operationAbandoned(
            operation,
            !operation.ended && !parses(query) ? 'deserialization' : 'aborted',
          );
        operations.clear();
      });
      return call(given.onClose, [ctx, code, reason]);
    },
  };
}
