export const METRICS_REGISTRY = 'METRICS:REGISTRY';
export const METRICS_RESOLVED_OPTIONS = 'METRICS:RESOLVED_OPTIONS';

export const TIMED_METADATA = 'metrics:timed';
export const COUNTED_METADATA = 'metrics:counted';

/** The `route` label of a request that matched no route. */
export const UNMATCHED_ROUTE = 'UNMATCHED';

/** The OpenTelemetry HTTP duration buckets, in seconds. */
export const DEFAULT_DURATION_BUCKETS: readonly number[] = Object.freeze([
  0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10,
]);

/**
 * Default buckets of `request_duration_seconds` per transport, in seconds: HTTP's end at 10 s;
 * RPC and WebSocket handlers add 30 s and 1 min; queue jobs run for minutes, so theirs reach 30 min;
 * GraphQL operations are answered within an HTTP request, so they take HTTP's.
 */
export const DEFAULT_TRANSPORT_BUCKETS: Readonly<
  Record<'http' | 'rpc' | 'ws' | 'queue' | 'graphql', readonly number[]>
> = Object.freeze({
  http: DEFAULT_DURATION_BUCKETS,
  rpc: Object.freeze([...DEFAULT_DURATION_BUCKETS, 30, 60]),
  ws: Object.freeze([...DEFAULT_DURATION_BUCKETS, 30, 60]),
  queue: Object.freeze([
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300,
    600, 1800,
  ]),
  graphql: DEFAULT_DURATION_BUCKETS,
});

/**
 * Buckets of `queue_wait_seconds`, in seconds: from 5 ms (a job picked up at once) to an hour (a
 * backlog), since queue waits span far more than request durations.
 */
export const DEFAULT_QUEUE_WAIT_BUCKETS: readonly number[] = Object.freeze([
  0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900,
  1800, 3600,
]);

export const DEFAULT_METRICS_PATH = '/metrics';

/** Default `maxSeries`: label sets one metric family may hold before new ones fold into `OVERFLOW`. */
export const DEFAULT_MAX_SERIES = 2000;

/** The value of every varying label of the one series that label sets beyond `maxSeries` fold into. */
export const OVERFLOW_LABEL_VALUE = 'OVERFLOW';

/** The `method` label of an HTTP request whose method is not a standard one (as OpenTelemetry names it). */
export const OTHER_METHOD = '_OTHER';

export const DEFAULT_TIMED_NAME = 'method_duration_seconds';
export const DEFAULT_COUNTED_NAME = 'method_calls_total';

/** The labels every `@Timed` and `@Counted` metric has, before the decorator's own. */
export const DECORATOR_LABELS: readonly string[] = Object.freeze([
  'class',
  'method',
  'result',
  'exception',
]);

/** The histogram of how long queue jobs waited before their first attempt. */
export const QUEUE_WAIT_METRIC = 'queue_wait_seconds';

/** The labels of `queue_wait_seconds`. */
export const QUEUE_WAIT_LABELS: readonly string[] = Object.freeze([
  'queue',
  'job_name',
]);

/** Label names Prometheus gives a meaning of its own: histogram buckets and summary quantiles. */
export const RESERVED_LABELS: readonly string[] = Object.freeze([
  'le',
  'quantile',
]);

/**
 * prom-client default metrics that are gauges named like counters; they fail
 * `promtool check metrics`. The same values are exported without `_total`
 * (broken down by type) by prom-client itself.
 */
export const MISNAMED_DEFAULT_METRICS = [
  'nodejs_active_handles_total',
  'nodejs_active_requests_total',
  'nodejs_active_resources_total',
];

export const METRIC_NAME_PATTERN = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
export const LABEL_NAME_PATTERN = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
/** A metrics path: starts with "/", is not "/" and has no spaces, "?" or "#". */
export const METRICS_PATH_PATTERN = /^\/[^\s?#]+$/;
