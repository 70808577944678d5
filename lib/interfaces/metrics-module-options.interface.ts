import type { Registry } from 'prom-client';
import type {
  OtlpOptions,
  ResolvedOtlpOptions,
} from '../export/otlp/otlp.options.js';
import type {
  ExemplarsOptions,
  ResolvedExemplarsOptions,
} from '../exemplars/exemplars.options.js';
import type {
  GpuMetricsOptions,
  ResolvedGpuMetrics,
} from '../host/host-metrics.options.js';
import type {
  DefaultMetricsOptions,
  ResolvedDefaultMetrics,
} from '../options/default-metrics.options.js';
import type {
  LogErrorsOptions,
  ResolvedLogErrorsOptions,
} from '../logs/log-errors.options.js';
import type { TransportBuckets } from '../recorder/series-store.js';
import type { ScrapeAuth, ScrapeAuthOption } from '../scrape/scrape-auth.js';
import type {
  MetricsSummaryOptions,
  ResolvedSummaryOptions,
} from '../summary/summary.options.js';
import type {
  QueueDepthOptions,
  ResolvedQueueDepthOptions,
} from '../queue/queue-depth.options.js';
import type {
  ClusterOptions,
  ResolvedClusterOptions,
} from './cluster-options.interface.js';
import type {
  PushgatewayOptions,
  ResolvedPushgatewayOptions,
} from './pushgateway-options.interface.js';
import type {
  LogPushOptions,
  ResolvedLogPushOptions,
} from '../push/log-push/log-push.options.js';

/** The `buckets` option as a map by transport: each a bucket list, in seconds. */
export interface TransportBucketsOption {
  http?: number[];
  rpc?: number[];
  ws?: number[];
  queue?: number[];
  graphql?: number[];
}

/** Options of `MetricsModule.forRoot()` and of the factory of `forRootAsync()`. */
export interface MetricsModuleOptions {
  /** Path the exposition is served at. The app's global prefix does not apply. Default `/metrics`. */
  path?: string;
  /**
   * Prepended to the name of every metric of the app: the request families, `queue_wait_seconds`,
   * `@Timed`/`@Counted` and `MetricsService` metrics. prom-client's `process_*` and `nodejs_*`
   * keep their standard names (see `defaultMetrics.prefix`). Default none.
   */
  prefix?: string;
  /** Constant labels added to every series of the registry, e.g. `{ service: 'api' }`. */
  defaultLabels?: Record<string, string>;
  /**
   * Buckets of `request_duration_seconds`, in seconds: one list for every transport, or a list per
   * transport (`{ http?, rpc?, ws?, queue?, graphql? }`; those left out keep their default). Default
   * `DEFAULT_TRANSPORT_BUCKETS`: the OpenTelemetry HTTP buckets (to 10 s) for HTTP, those plus
   * 30 s and 1 min for rpc and ws, 5 ms to 30 min for queue jobs. `@Timed` and
   * `MetricsService.histogram()` take the HTTP list.
   */
  buckets?: number[] | TransportBucketsOption;
  /**
   * Export prom-client's process and Node.js metrics: `true`, `false`, or prom-client's
   * `collectDefaultMetrics` settings (`{ prefix, eventLoopMonitoringPrecision, gcDurationBuckets,
   * labels }`). Default `true`.
   */
  defaultMetrics?: boolean | DefaultMetricsOptions;
  /** A prom-client registry to use instead of the one the module creates. */
  registry?: Registry;
  /** Route templates (as in the `route` label, e.g. `/health`) that are not measured. */
  excludePaths?: string[];
  /** `false` records nothing and serves no metrics path. Default `true`. */
  enabled?: boolean;
  /**
   * Label sets one metric family may hold (request families, `MetricsService` and decorator
   * metrics); new label sets beyond it are recorded in one series whose label values read
   * `OVERFLOW`, and a warning is logged once. Default 2000.
   */
  maxSeries?: number;
  /**
   * Credentials a scrape must present: `{ bearer }`, `{ username, password }` (HTTP Basic) or a
   * function of the raw request. Default none (the metrics path is open).
   */
  auth?: ScrapeAuthOption;
  /** Push the registry to a Pushgateway on an interval and once more at shutdown. Default none. */
  pushgateway?: PushgatewayOptions;
  /** Serve the totals of all `node:cluster` workers (`true` or settings). Default `false`. */
  cluster?: boolean | ClusterOptions;
  /** Buckets of `queue_wait_seconds`, in seconds. Default `DEFAULT_QUEUE_WAIT_BUCKETS` (5 ms to 1 h). */
  queueWaitBuckets?: number[];
  /**
   * `queue_jobs{queue, state}` and `queue_workers{queue}` of every BullMQ queue of the app, read
   * from Redis when scraped: `false` turns them off; `{ cacheSeconds, timeoutSeconds }` sets how
   * long a reading serves scrapes (default 1 s) and how long a scrape waits for Redis before it
   * serves the last reading (default 0.5 s). Default on.
   */
  queueDepth?: boolean | QueueDepthOptions;
  /**
   * Serve the metrics path on a dedicated HTTP server on this port (0 picks a free one) instead of
   * on the app's own server, which then does not serve it. For workers and microservices without
   * HTTP, and to keep metrics off the public port. Default: none.
   */
  port?: number;
  /** Interface the dedicated metrics server listens on (with `port`). Default: all interfaces. */
  host?: string;
  /**
   * The JSON summary (`MetricsService.summary()`, served at `path`, `?full=1` the snapshot, behind
   * `auth`, on the metrics `port` when given) and the sliding window of its rates and percentiles:
   * `{ path?, windowSeconds? }`, or `false` to serve no summary path and run no snapshot timer.
   * Default `{ path: '<path>/summary', windowSeconds: 300 }`.
   */
  summary?: MetricsSummaryOptions | false;
  /**
   * Push every counted log error as a record over a WebSocket (`ws://`/`wss://`), batched, on a
   * bounded queue, reconnecting with backoff; `false` turns off what `METRICS_LOG_PUSH_*` set.
   * Needs the `ws` package. Default none.
   */
  logPush?: LogPushOptions | false;
  /**
   * Host CPU, memory (cgroup-aware limit), disk, file system, network and load metrics, read from
   * `/proc`, `/sys/fs/cgroup` and `statfs` at scrape time (Linux). Default `false`.
   */
  hostMetrics?: boolean;
  /** Per NVIDIA GPU metrics from `nvidia-smi`: `true` or its settings. Default `false`. */
  gpuMetrics?: boolean | GpuMetricsOptions;
  /**
   * Export every family of the registry over OTLP/HTTP (protobuf or JSON) through the
   * OpenTelemetry SDK: `true` or settings, completed from the standard `OTEL_*` variables. Also on
   * when `OTEL_METRICS_EXPORTER=otlp`. Default off.
   */
  otlp?: boolean | OtlpOptions;
  /**
   * Measure the outbound HTTP calls of the process (global `fetch`, `node:http`/`https`, axios and
   * `HttpService`): `client_requests_total`, `client_request_duration_seconds` and
   * `client_errors_total` by method and host. Default `false`.
   */
  clientMetrics?: boolean;
  /**
   * How error log calls are counted in `log_errors_total` (`warn`, `categories`, a `logger` for
   * the module to wrap and install). Default: error and fatal calls, the default categories,
   * nothing installed.
   */
  logErrors?: LogErrorsOptions;
  /**
   * Trace exemplars: while an OpenTelemetry span is active and sampled when a request arrives,
   * `request_duration_seconds` buckets and `requests_total` (and `@Timed` histograms) carry its
   * `trace_id`/`span_id` in the OpenMetrics output. Needs `@opentelemetry/api`. Default off.
   */
  exemplars?: boolean | ExemplarsOptions;
}

/** The options after defaults were merged and every value was checked. */
export interface ResolvedMetricsOptions {
  path: string;
  prefix: string;
  defaultLabels: Record<string, string>;
  buckets: TransportBuckets;
  defaultMetrics: ResolvedDefaultMetrics;
  registry: Registry | undefined;
  excludePaths: ReadonlySet<string>;
  enabled: boolean;
  maxSeries: number;
  auth: ScrapeAuth | undefined;
  pushgateway: ResolvedPushgatewayOptions | undefined;
  cluster: ResolvedClusterOptions | undefined;
  queueWaitBuckets: readonly number[];
  queueDepth: ResolvedQueueDepthOptions | undefined;
  port: number | undefined;
  host: string | undefined;
  summary: ResolvedSummaryOptions | undefined;
  logPush: ResolvedLogPushOptions | undefined;
  hostMetrics: boolean;
  gpuMetrics: ResolvedGpuMetrics | undefined;
  otlp: ResolvedOtlpOptions | undefined;
  clientMetrics: boolean;
  logErrors: ResolvedLogErrorsOptions;
  exemplars: ResolvedExemplarsOptions | undefined;
}
