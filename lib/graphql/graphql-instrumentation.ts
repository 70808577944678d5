import { RecordingFailureLog } from '../recorder/recording-failure-log.js';
import type { RequestMetrics } from '../recorder/request-metrics.js';
import type { ErrorType } from '../recorder/request-record.js';
import { payloadBytes } from '../recorder/payload-bytes.js';
import { graphqlErrorType } from './graphql-error-type.js';
import type { HandlerContext } from '../context/handler-context.js';

/** The route of an operation without a name. */
export const ANONYMOUS_OPERATION = '_anonymous';

/** The `method` label of an operation: its type. */
export type OperationKind = 'query' | 'mutation' | 'subscription';

/** A parsed GraphQL document, as far as the instrumentation reads it (graphql-js `DocumentNode`). */
export interface OperationDocument {
  readonly definitions: readonly {
    readonly kind: string;
    readonly operation?: string;
    readonly name?: { readonly value: string };
  }[];
}

/** What the driver knows once an operation has ended. */
export interface OperationEnd {
  /** The parsed document, when parsing succeeded. */
  readonly document?: OperationDocument | null;
  /** The errors of the result, as the driver raised them (before formatting where it can). */
  readonly errors?: readonly unknown[] | null;
  /** The error type when the driver knows it without errors to read (an abandoned operation). */
  readonly errorType?: ErrorType;
  /** The UTF-8 length of the JSON of the result sent back. */
  readonly responseBytes: number;
}

/** One GraphQL operation in progress: what `operationStarted` saw, for `operationEnded`. */
export class GraphqlOperation {
  /** The operation's requested name (`operationName`), until the document says otherwise. */
  name: string | undefined;
  /** Set once recorded. */
  ended = false;
  /** A subscription that was set up: in flight until `subscriptionLeft`. */
  active = false;

  constructor(
    readonly startedAt: number,
    readonly requestBytes: number,
    requestedName: unknown,
    /** The kind assumed until the document is known (an unparsable subscribe is a `subscription`). */
    readonly defaultKind: OperationKind,
  ) {
    this.name = typeof requestedName === 'string' ? requestedName : undefined;
  }
}

/** GraphQL names: what a parsed operation name always is. */
const NAME = /^[_A-Za-z][_0-9A-Za-z]*$/;

/**
 * Measures GraphQL operations: each is one request of transport `graphql` (method = the
 * operation's type, route = its name or `_anonymous`). The drivers' hooks (Apollo plugin,
 * graphql-ws hooks, Mercurius hooks) call only `operationStarted` when an operation arrives and
 * `operationEnded` when its result is ready, plus `subscriptionLeft` when a subscription set up by
 * it ends. Recording never changes what the operation returns or throws.
 */
export class GraphqlInstrumentation {
  private readonly failures = new RecordingFailureLog();
  /** The handler context of each operation definition a resolver ran for (the parsed node). */
  private readonly contexts = new WeakMap<object, HandlerContext>();

  constructor(private readonly metrics: RequestMetrics) {
    metrics.declareTransport('graphql');
  }

  /**
   * An operation arrived (before it is parsed). Request bytes: the UTF-8 length of the query
   * text plus that of the JSON of its variables (none when absent or null).
   */
  operationStarted(
    query: unknown,
    variables: unknown,
    operationName: unknown,
    defaultKind: OperationKind = 'query',
  ): GraphqlOperation | undefined {
    try {
      const startedAt = performance.now();
      const requestBytes =
        (typeof query === 'string' ? Buffer.byteLength(query) : 0) +
        (variables === null ? 0 : payloadBytes(variables));
      this.metrics.started('graphql');
      return new GraphqlOperation(
        startedAt,
        requestBytes,
        operationName,
        defaultKind,
      );
    } catch (error) {
      this.failures.report(error);
      return undefined;
    }
  }

  /**
   * The operation's result is ready (or it failed before execution): records it once. A
   * subscription whose result is its event stream stays in flight until `subscriptionLeft`.
   */
  operationEnded(
    operation: GraphqlOperation | undefined,
    end: OperationEnd,
    subscribed = false,
  ): void {
    if (operation === undefined || operation.ended) return;
    operation.ended = true;
    try {
      const durationSeconds = (performance.now() - operation.startedAt) / 1000;
      const { kind, name } = operationOf(
        end.document,
        operation.name,
        operation.defaultKind,
      );
      const errors = end.errors;
      const errorType: ErrorType | undefined =
        end.errorType ??
        (errors != null && errors.length > 0
          ? graphqlErrorType(errors[0])
          : undefined);
      if (subscribed && errorType === undefined) operation.active = true;
      else this.metrics.ended('graphql');
      this.metrics.record(this.metrics.route('graphql', kind, name), {
        status: errorType === undefined ? 'ok' : 'error',
        durationSeconds,
        requestBytes: operation.requestBytes,
        responseBytes: end.responseBytes,
        errorType,
      });
    } catch (error) {
      this.failures.report(error);
    }
  }

  /**
   * The handler context of the resolvers of an operation, from the operation definition they
   * run for (graphql-js `info.operation`): transport `graphql` and the route `operationEnded`
   * records that operation under, through the same cardinality guard. Resolved once per parsed
   * definition (a cached document keeps its node).
   */
  handlerContext(definition: unknown): HandlerContext | undefined {
    if (definition === null || typeof definition !== 'object') return undefined;
    let found = this.contexts.get(definition);
    if (found === undefined) {
      try {
        const { kind, name } = operationOf(
          {
            definitions: [definition as OperationDocument['definitions'][0]],
          },
          undefined,
          'query',
        );
        found = {
          transport: 'graphql',
          route: this.metrics.route('graphql', kind, name).route,
        };
      } catch (error) {
        this.failures.report(error);
        return undefined;
      }
      this.contexts.set(definition, found);
    }
    return found;
  }

  /** A subscription set up by `operation` has ended: its client completed it, or left. */
  subscriptionLeft(operation: GraphqlOperation | undefined): void {
    if (operation === undefined || !operation.active) return;
    operation.active = false;
    this.metrics.ended('graphql');
  }

  /**
   * An operation that will not end normally (its connection closed before it was answered):
   * recorded as `aborted`, or as `deserialization` when its text did not parse.
   */
  operationAbandoned(
    operation: GraphqlOperation | undefined,
    errorType: ErrorType = 'aborted',
    document?: OperationDocument,
  ): void {
    if (operation === undefined) return;
    if (operation.ended) {
      this.subscriptionLeft(operation);
      return;
    }
    this.operationEnded(operation, { document, errorType, responseBytes: 0 });
  }
}

/** The type and name of the operation a document runs (`operationName` picks among several). */
export function operationOf(
  document: OperationDocument | null | undefined,
  requestedName: string | undefined,
  defaultKind: OperationKind,
): { kind: OperationKind; name: string } {
  const operations = (document?.definitions ?? []).filter(
    (definition) => definition.kind === 'OperationDefinition',
  );
  const chosen =
    requestedName !== undefined && requestedName !== ''
      ? operations.find((operation) => operation.name?.value === requestedName)
      : operations.length === 1
        ? operations[0]
        : undefined;
  if (chosen === undefined)
    // Not parsed, or the name matched none: the name asked for, when it could be one.
    return {
      kind: defaultKind,
      name:
        requestedName !== undefined && NAME.test(requestedName)
          ? requestedName
          : ANONYMOUS_OPERATION,
    };
  const kind = chosen.operation;
  return {
    kind:
      kind === 'mutation' || kind === 'subscription' || kind === 'query'
        ? kind
        : defaultKind,
    name: chosen.name?.value ?? ANONYMOUS_OPERATION,
  };
}

/** The UTF-8 length of the JSON of a result, 0 when it has none. */
export function resultBytes(result: unknown): number {
  return payloadBytes(result);
}

/** Whether `value` is an async iterable (a subscription's event stream). */
export function isAsyncIterable(
  value: unknown,
): value is AsyncIterable<unknown> {
  return (
    value !== null &&
    typeof value === 'object' &&
    typeof (value as { [Symbol.asyncIterator]?: unknown })[
      Symbol.asyncIterator
    ] === 'function'
  );
}
