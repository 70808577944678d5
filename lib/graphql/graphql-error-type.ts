import { HttpException } from '@nestjs/common';
import { statusErrorType } from '../http/error-type.js';
import type { ErrorType } from '../recorder/request-record.js';

/** Apollo Server's codes of request errors (`ApolloServerErrorCode`), public in `@apollo/server/errors`. */
const PARSE_CODES = new Set(['GRAPHQL_PARSE_FAILED']);
const VALIDATION_CODES = new Set([
  'GRAPHQL_VALIDATION_FAILED',
  'OPERATION_RESOLUTION_FAILURE',
]);

interface GraphqlErrorShape {
  readonly message?: unknown;
  readonly path?: unknown;
  readonly originalError?: unknown;
  readonly extensions?: { readonly code?: unknown };
  /** Mercurius' `MER_ERR_GQL_VALIDATION` carries the parse or validation errors it stands for. */
  readonly errors?: unknown;
}

/**
 * Maps the first error of a GraphQL result to the closed `error_type` set: a document that does
 * not parse (graphql-js' `Syntax Error:`, Apollo's `GRAPHQL_PARSE_FAILED`) is `deserialization`;
 * a request error raised before any resolver ran (a validation rule, a variable of the wrong type,
 * an unknown operation name: errors without a `path` nor an original error) is `validation`; an
 * `HttpException` a resolver threw maps by its status as on HTTP (`statusErrorType`); anything
 * else is `internal`.
 */
export function graphqlErrorType(error: unknown, depth = 0): ErrorType {
  if (error === null || typeof error !== 'object' || depth > 4)
    return 'internal';
  const shape = error as GraphqlErrorShape;
  const original = shape.originalError as GraphqlErrorShape | undefined;
  // Mercurius wraps the errors of a document it refused in one error holding them.
  const inner = Array.isArray(shape.errors)
    ? shape.errors
    : Array.isArray(original?.errors)
      ? original.errors
      : undefined;
  if (inner !== undefined)
    return inner.length > 0 ? requestErrorType(inner[0], depth) : 'validation';
  const code = shape.extensions?.code;
  if (typeof code === 'string') {
    if (PARSE_CODES.has(code)) return 'deserialization';
    if (VALIDATION_CODES.has(code)) return 'validation';
  }
  if (isSyntaxError(shape)) return 'deserialization';
  const thrown = thrownError(shape);
  if (thrown instanceof HttpException)
    return statusErrorType(thrown.getStatus(), thrown) ?? 'internal';
  if (thrown === undefined && shape.path === undefined) return 'validation';
  return 'internal';
}

/** An error among those of a refused document: a syntax error, or else a validation error. */
function requestErrorType(error: unknown, depth: number): ErrorType {
  const type = graphqlErrorType(error, depth + 1);
  return type === 'deserialization' ? type : 'validation';
}

function isSyntaxError(error: GraphqlErrorShape): boolean {
  return (
    typeof error.message === 'string' &&
    error.message.startsWith('Syntax Error')
  );
}

/**
 * What a resolver threw: the first error under the GraphQL errors wrapping it (graphql-js and
 * Apollo wrap once or twice), undefined when there is only GraphQL's own.
 */
function thrownError(error: GraphqlErrorShape): unknown {
  let current: unknown = error.originalError;
  for (let i = 0; i < 5; i++) {
    if (current === null || current === undefined) return undefined;
    if (!isGraphqlError(current)) return current;
    current = (current as GraphqlErrorShape).originalError;
  }
  return current;
}

/** A graphql-js `GraphQLError` (or a subclass), told by its `Symbol.toStringTag`. */
function isGraphqlError(value: unknown): boolean {
  return Object.prototype.toString.call(value) === '[object GraphQLError]';
}
