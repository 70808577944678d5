/** Where a measured request came in; every transport shares the request families. */
export type Transport = 'http' | 'rpc' | 'ws' | 'queue' | 'graphql';

/**
 * The closed set of `error_type` label values.
 * 2xx and 3xx responses carry none. `stalled` is a queue job whose lock expired while it was active.
 */
export type ErrorType =
  | 'deserialization'
  | 'validation'
  | 'unauthorized'
  | 'forbidden'
  | 'not_found'
  | 'client_error'
  | 'timeout'
  | 'internal'
  | 'aborted'
  | 'response_stream'
  | 'stalled';

export const ERROR_TYPES: readonly ErrorType[] = [
  'deserialization',
  'validation',
  'unauthorized',
  'forbidden',
  'not_found',
  'client_error',
  'timeout',
  'internal',
  'aborted',
  'response_stream',
  'stalled',
];

/** The series of one transport, method and route; resolved once, then reused by every request on it. */
export interface RouteKey {
  readonly transport: Transport;
  readonly method: string;
  readonly route: string;
}

/** What an adapter hands the recorder once a request has ended. */
export interface RequestRecord {
  readonly status: string;
  readonly durationSeconds: number;
  readonly requestBytes: number;
  readonly responseBytes: number;
  readonly errorType: ErrorType | undefined;
}
