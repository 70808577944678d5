import type {
  GraphqlInstrumentation,
  OperationDocument,
} from './graphql-instrumentation.js';
import { resultBytes } from './graphql-instrumentation.js';

/** What the plugin reads of an Apollo Server `GraphQLRequestContext`. */
interface ApolloRequestContext {
  readonly request: {
    readonly query?: string;
    readonly variables?: unknown;
    readonly operationName?: string | null;
  };
  readonly document?: OperationDocument;
  readonly errors?: readonly unknown[];
  readonly response?: {
    readonly body?:
      | { readonly kind: 'single'; readonly singleResult: unknown }
      | { readonly kind: 'incremental'; readonly initialResult: unknown };
  };
}

/** The hooks of an Apollo Server plugin this one implements (`ApolloServerPlugin`). */
export interface ApolloMetricsPlugin {
  requestDidStart(context: ApolloRequestContext): Promise<{
    didEncounterErrors(context: ApolloRequestContext): Promise<void>;
    willSendResponse(context: ApolloRequestContext): Promise<void>;
  } | void>;
}

/**
 * An Apollo Server plugin (public plugin API) that makes each operation Apollo runs over HTTP one
 * `graphql` request: started in `requestDidStart` (before parsing), ended in `willSendResponse`
 * (execution done, the result about to be serialised), with the errors Apollo saw in
 * `didEncounterErrors` before they were formatted. Response bytes: the JSON of the result Apollo
 * sends (without the newline it appends); for an incremental (`@defer`) result, its first part.
 */
export function apolloMetricsPlugin(
  instrumentation: GraphqlInstrumentation,
): ApolloMetricsPlugin {
  return {
    async requestDidStart(start) {
      const operation = instrumentation.operationStarted(
        start.request.query,
        start.request.variables,
        start.request.operationName,
      );
      if (operation === undefined) return;
      let errors: readonly unknown[] | undefined;
      return {
        async didEncounterErrors(context) {
          errors ??= context.errors;
        },
        async willSendResponse(context) {
          const body = context.response?.body;
          instrumentation.operationEnded(operation, {
            document: context.document,
            errors: errors ?? context.errors,
            responseBytes:
              body === undefined
                ? 0
                : resultBytes(
                    body.kind === 'single'
                      ? body.singleResult
                      : body.initialResult,
                  ),
          });
        },
      };
    },
  };
}
