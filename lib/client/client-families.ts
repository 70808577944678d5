/** Labels of `client_requests_total` and `client_request_duration_seconds`. */
export const CLIENT_STATUS_LABELS = [
  'transport',
  'method',
  'host',
  'status',
] as const;
/** Labels of `client_errors_total`. */
export const CLIENT_ERROR_LABELS = [
  'transport',
  'method',
  'host',
  'error_type',
] as const;

/** The `transport` of every outbound HTTP call. */
export const HTTP_CLIENT_TRANSPORT = 'http_client';

/** The `status` of a call that ended before a status line arrived. */
export const NO_STATUS = 'error';

/** How an outbound call went wrong: the closed `error_type` set of `client_errors_total`. */
export type ClientErrorType =
  'timeout' | 'connection' | 'cancelled' | 'client_error' | 'internal';

/** One family of the outbound HTTP calls, described once. */
export interface ClientFamily {
  /** The name, before the `prefix`. */
  readonly name: string;
  readonly help: string;
  readonly type: 'counter' | 'histogram';
  readonly labels: readonly string[];
}

/** The families of outbound HTTP calls (`clientMetrics: true`), in the order they are registered. */
export const CLIENT_FAMILIES = {
  requests: {
    name: 'client_requests_total',
    help: 'Outbound HTTP calls made by the app, by method, host and status.',
    type: 'counter',
    labels: CLIENT_STATUS_LABELS,
  },
  duration: {
    name: 'client_request_duration_seconds',
    help: 'Time from the start of an outbound HTTP call until its response body ended (or the call failed), in seconds.',
    type: 'histogram',
    labels: CLIENT_STATUS_LABELS,
  },
  errors: {
    name: 'client_errors_total',
    help: 'Outbound HTTP calls that failed or got a 4xx/5xx status, by error_type.',
    type: 'counter',
    labels: CLIENT_ERROR_LABELS,
  },
} as const satisfies Record<string, ClientFamily>;
