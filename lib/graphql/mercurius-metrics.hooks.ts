import type {
  GraphqlInstrumentation,
  GraphqlOperation,
  OperationDocument,
} from './graphql-instrumentation.js';
import { isAsyncIterable, resultBytes } from './graphql-instrumentation.js';

/** What the hooks read of a Mercurius context over HTTP. */
interface MercuriusContext {
  readonly reply?: {
    readonly request?: { readonly body?: unknown; readonly query?: unknown };
    readonly raw?: {
      once(event: 'close', listener: () => void): unknown;
      readonly writableFinished?: boolean;
    };
  };
  readonly operationId?: number;
}

/** What the hooks read of a Mercurius subscription context: the connection's upgrade request. */
interface SubscriptionContext {
  readonly request?: unknown;
}

/** Mercurius' `errorFormatter(execution, context)` option (public). */
export type MercuriusErrorFormatter = (
  execution: { readonly errors?: readonly unknown[]; readonly data?: unknown },
  context: unknown,
) => { statusCode: number; response: unknown };

interface Pending {
  readonly operation: GraphqlOperation;
  readonly source: string;
  document?: OperationDocument;
  errors?: readonly unknown[];
  /** Execution started: Mercurius calls `onResolution` for the result. */
  executing: boolean;
}

type Parse = (source: string) => OperationDocument;

/**
 * Mercurius hooks (public `app.graphql.addHook` names, given to `@nestjs/mercurius` as its `hooks`
 * option) and an `errorFormatter` wrapper that make each operation Mercurius runs over HTTP one
 * `graphql` request. It starts in `preParsing`; it ends in `onResolution` once executed, or in the
 * error formatter when Mercurius refused the document (a syntax or validation error, which no
 * hook sees). The formatter also hands over the errors before Mercurius formats them, so that
 * an `HttpException` thrown by a resolver is seen. An operation that neither reached (its reply
 * closed first, or a custom `errorHandler` answered) ends when its reply closes.
 */
export class MercuriusMetricsHooks {
  private readonly pending = new WeakMap<object, Pending>();
  private readonly watchedReplies = new WeakMap<object, Set<Pending>>();

  constructor(
    private readonly instrumentation: GraphqlInstrumentation,
    /** graphql-js `parse`, to name a refused operation whose document Mercurius did not hand over. */
    private readonly parse: Parse | undefined,
  ) {}

  /** Subscribes by connection (the upgrade request) and subscription id, until set up. */
  private readonly subscribing = new WeakMap<object, Map<unknown, Pending>>();

  /** The hooks, by Mercurius hook name. */
  hooks(): Record<string, (...args: never[]) => Promise<void>> {
    return {
      preSubscriptionParsing: async (
        _schema: unknown,
        source: unknown,
        context: SubscriptionContext,
        id: unknown,
      ) => this.subscribeStarted(source, context, id),
      preSubscriptionExecution: async (
        _schema: unknown,
        document: OperationDocument,
        context: SubscriptionContext,
        id: unknown,
      ) => {
        const pending = this.subscribingOf(context)?.get(id);
        if (pending !== undefined) pending.document = document;
      },
      onSubscriptionConnectionClose: async (context: SubscriptionContext) =>
        this.connectionClosed(context),
      preParsing: async (_schema: unknown, source: unknown, context: unknown) =>
        this.preParsing(source, context as MercuriusContext),
      preValidation: async (
        _schema: unknown,
        document: OperationDocument,
        context: object,
      ) => {
        const pending = this.pending.get(context);
        if (pending !== undefined) pending.document = document;
      },
      preExecution: async (
        _schema: unknown,
        document: OperationDocument,
        context: object,
      ) => {
        const pending = this.pending.get(context);
        if (pending === undefined) return;
        pending.document = document;
        pending.executing = true;
      },
      onResolution: async (
        execution: { errors?: readonly unknown[] },
        context: object,
      ) => this.resolved(execution, context),
    };
  }

  /**
   * Wraps the `subscribe` of each root field of the schema's subscription type (graphql-js'
   * public field definitions, which Mercurius' `subscribe()` calls): a subscribe is set up when
   * it returns its event stream, refused when it throws, and over when Mercurius returns that
   * stream (the client completed it, or its connection closed, with or without a close frame).
   */
  measureSubscriptions(schema: unknown): void {
    const type = (
      schema as { getSubscriptionType?: () => unknown } | null
    )?.getSubscriptionType?.() as
      | { getFields(): Record<string, { subscribe?: unknown }> }
      | null
      | undefined;
    if (type === null || type === undefined) return;
    for (const [name, field] of Object.entries(type.getFields())) {
      const subscribe = field.subscribe;
      if (typeof subscribe !== 'function') continue;
      // eslint-disable-next-line @typescript-eslint/no-this-alias
      const hooks = this;
      field.subscribe = function (
        this: unknown,
        root: unknown,
        args: unknown,
        context: SubscriptionContext & { id?: unknown },
        info: unknown,
      ): unknown {
        const pending = hooks.takeSubscribing(context);
        if (pending === undefined)
          return subscribe.call(this, root, args, context, info);
        let result: unknown;
        try {
          result = subscribe.call(this, root, args, context, info);
        } catch (error) {
          hooks.subscribeRefused(pending, error, name);
          throw error;
        }
        if (isPromiseLike(result))
          return Promise.resolve(result).then(
            (stream) => hooks.subscribed(pending, stream, name),
            (error: unknown) => {
              hooks.subscribeRefused(pending, error, name);
              throw error;
            },
          );
        return hooks.subscribed(pending, result, name);
      };
    }
  }

  private subscribeStarted(
    source: unknown,
    context: SubscriptionContext,
    id: unknown,
  ): void {
    const connection = context?.request;
    if (connection === null || typeof connection !== 'object') return;
    const operation = this.instrumentation.operationStarted(
      source,
      undefined,
      undefined,
      'subscription',
    );
    if (operation === undefined) return;
    let pending = this.subscribing.get(connection);
    if (pending === undefined) {
      pending = new Map();
      this.subscribing.set(connection, pending);
    }
    pending.set(id, {
      operation,
      source: typeof source === 'string' ? source : '',
      executing: true,
    });
  }

  private subscribingOf(
    context: SubscriptionContext | undefined,
  ): Map<unknown, Pending> | undefined {
    const connection = context?.request;
    return connection !== null && typeof connection === 'object'
      ? this.subscribing.get(connection)
      : undefined;
  }

  private takeSubscribing(
    context: (SubscriptionContext & { id?: unknown }) | undefined,
  ): Pending | undefined {
    const pending = this.subscribingOf(context);
    const found = pending?.get(context?.id);
    if (found !== undefined) pending!.delete(context?.id);
    return found;
  }

  private subscribed(
    pending: Pending,
    stream: unknown,
    field: string,
  ): unknown {
    if (stream instanceof Error || !isAsyncIterable(stream)) {
      this.subscribeRefused(pending, stream, field);
      return stream;
    }
    const { operation } = pending;
    this.instrumentation.operationEnded(
      operation,
      { document: pending.document, responseBytes: 0 },
      true,
    );
    const iterator = stream[Symbol.asyncIterator]();
    const leave = () => this.instrumentation.subscriptionLeft(operation);
    const measured: AsyncIterableIterator<unknown> = {
      next: async (...args: [] | [unknown]) => {
        const result = await iterator.next(...args);
        if (result.done === true) leave();
        return result;
      },
      return: async (value?: unknown) => {
        leave();
        return iterator.return !== undefined
          ? iterator.return(value)
          : { done: true, value };
      },
      throw: async (error?: unknown) => {
        leave();
        if (iterator.throw !== undefined) return iterator.throw(error);
        throw error;
      },
      [Symbol.asyncIterator]() {
        return measured;
      },
    };
    return measured;
  }

  private subscribeRefused(pending: Pending, error: unknown, field: string) {
    this.instrumentation.operationEnded(pending.operation, {
      document: pending.document,
      errors: [{ originalError: error, path: [field] }],
      responseBytes: 0,
    });
  }

  /** Subscribes of a closed connection that were never set up (refused before their resolver ran). */
  private connectionClosed(context: SubscriptionContext | undefined): void {
    const pending = this.subscribingOf(context);
    if (pending === undefined) return;
    for (const left of pending.values())
      this.instrumentation.operationAbandoned(
        left.operation,
        'aborted',
        left.document,
      );
    pending.clear();
  }

  /** Wraps Mercurius' error formatter (the app's, or Mercurius' default one). */
  wrapErrorFormatter(format: MercuriusErrorFormatter): MercuriusErrorFormatter {
    return (execution, context) => {
      const formatted = format(execution, context);
      try {
        this.formatted(execution, context, formatted);
      } catch {
        // Recording never changes what Mercurius answers.
      }
      return formatted;
    };
  }

  private preParsing(source: unknown, context: MercuriusContext): void {
    // Only operations over HTTP: the websocket runs subscriptions, with their own hooks.
    const reply = context?.reply;
    if (reply === undefined || typeof source !== 'string') return;
    const payload = requestPayload(context);
    const operation = this.instrumentation.operationStarted(
      source,
      payload.variables,
      payload.operationName,
    );
    if (operation === undefined) return;
    const pending: Pending = { operation, source, executing: false };
    this.pending.set(context, pending);
    this.watch(reply, pending);
  }

  private resolved(
    execution: { errors?: readonly unknown[] },
    context: object,
  ): void {
    const pending = this.take(context);
    if (pending === undefined) return;
    this.instrumentation.operationEnded(pending.operation, {
      document: pending.document,
      errors: pending.errors ?? execution.errors,
      responseBytes: resultBytes(execution),
    });
  }

  private formatted(
    execution: {
      readonly errors?: readonly unknown[];
      readonly data?: unknown;
    },
    context: unknown,
    formatted: { response: unknown },
  ): void {
    if (context === null || typeof context !== 'object') return;
    const pending = this.pending.get(context);
    if (pending === undefined) return;
    pending.errors ??= execution.errors;
    // A result with `data` was executed: `onResolution` follows and ends it.
    if ('data' in execution) return;
    this.take(context);
    this.instrumentation.operationEnded(pending.operation, {
      document: pending.document ?? this.tryParse(pending.source),
      errors: execution.errors,
      responseBytes: resultBytes(formatted.response),
    });
  }

  private take(context: object): Pending | undefined {
    const pending = this.pending.get(context);
    if (pending !== undefined) this.pending.delete(context);
    return pending;
  }

  /** Ends, when the reply closes, the operations of it that nothing else ended. */
  private watch(
    reply: NonNullable<MercuriusContext['reply']>,
    pending: Pending,
  ) {
    let operations = this.watchedReplies.get(reply);
    if (operations === undefined) {
      operations = new Set();
      this.watchedReplies.set(reply, operations);
      const watched = operations;
      reply.raw?.once('close', () => {
        for (const left of watched)
          this.instrumentation.operationAbandoned(
            left.operation,
            reply.raw?.writableFinished === true ? 'internal' : 'aborted',
          );
        watched.clear();
      });
    }
    operations.add(pending);
  }

  private tryParse(source: string): OperationDocument | undefined {
    if (this.parse === undefined) return undefined;
    try {
      return this.parse(source);
    } catch {
      return undefined;
    }
  }
}

/** The variables and operation name of the operation, from the body (POST) or query (GET). */
function requestPayload(context: MercuriusContext): {
  variables?: unknown;
  operationName?: unknown;
} {
  const request = context.reply?.request;
  let payload: unknown = request?.body;
  if (Array.isArray(payload)) payload = payload[context.operationId ?? 0];
  if (payload === null || typeof payload !== 'object') payload = request?.query;
  if (payload === null || typeof payload !== 'object') return {};
  const { variables, operationName } = payload as {
    variables?: unknown;
    operationName?: unknown;
  };
  if (typeof variables === 'string') {
    // GET: the variables travel as JSON text.
    try {
      return { variables: JSON.parse(variables), operationName };
    } catch {
      return { operationName };
    }
  }
  return { variables, operationName };
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return (
    value !== null &&
    typeof value === 'object' &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}
