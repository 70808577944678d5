/**
 * The JSON of `MetricsService.summary()` and of `GET <path>/summary` (a wire format: snake_case).
 * Quantiles with no observation read `null`.
 */
export interface MetricsSummary {
  /** When it was read, ISO 8601. */
  timestamp: string;
  /** Seconds since the metrics module started, as `uptime_seconds` measures them. */
  uptime_seconds: number;
  /** The time the window covers, in seconds: `summary.windowSeconds`, less while the app is younger. */
  window_seconds: number;
  /** Says how p50/p95/p99 are obtained. */
  quantile_estimate: string;
  /** One entry per transport that has recorded a request (or has one in flight). */
  transports: Record<string, TransportSummary>;
}

export interface TransportSummary {
  /** Requests since start (or the last reset). */
  requests: number;
  /** Requests per second over the window. */
  request_rate_per_second: number;
  /** Requests that ended in an error since start (or the last reset). */
  errors: number;
  /** Errors / requests over the window; `0` without requests. */
  error_ratio: number;
  /** Errors since start (or the last reset), by `error_type`. */
  errors_by_type: Record<string, number>;
  /** Requests in flight now. */
  in_flight: number;
  latency_seconds: {
    window: LatencyQuantiles;
    lifetime: LatencyQuantiles;
  };
  /** At most 5 routes with requests in the window, p95 descending. */
  top_routes_by_p95: RouteSummary[];
  /** At most 5 routes with errors in the window, errors descending. */
  top_routes_by_errors: RouteSummary[];
}

export interface LatencyQuantiles {
  p50: number | null;
  p95: number | null;
  p99: number | null;
}

/** One route over the window. */
export interface RouteSummary {
  method: string;
  route: string;
  requests: number;
  errors: number;
  p95: number | null;
}

/** The JSON of `MetricsService.snapshot()` and of `GET <path>/summary?full=1`: every family. */
export interface MetricsSnapshot {
  timestamp: string;
  uptime_seconds: number;
  quantile_estimate: string;
  counters: Record<string, SnapshotFamily<SnapshotValueSeries>>;
  gauges: Record<string, SnapshotFamily<SnapshotValueSeries>>;
  histograms: Record<string, SnapshotFamily<SnapshotHistogramSeries>>;
  summaries: Record<string, SnapshotFamily<SnapshotSummarySeries>>;
}

export interface SnapshotFamily<S> {
  help: string;
  series: S[];
}

export interface SnapshotValueSeries {
  labels: Record<string, string>;
  value: number;
}

/** A histogram series over the whole lifetime (since start or the last reset). */
export interface SnapshotHistogramSeries {
  labels: Record<string, string>;
  count: number;
  sum: number;
  /** `sum / count`; `null` without observations. */
  mean: number | null;
  p50: number | null;
  p95: number | null;
  p99: number | null;
}

/** A prom-client Summary series: its own quantiles, as the scrape renders them. */
export interface SnapshotSummarySeries {
  labels: Record<string, string>;
  count: number;
  sum: number;
  mean: number | null;
  /** By quantile, e.g. `{ "0.5": 0.01, "0.9": 0.02 }`; `null` where prom-client has none. */
  quantiles: Record<string, number | null>;
}
