/**
 * The JSON of `GET <metrics path>/summary` (`MetricsService.summary()`), as far as the terminal
 * view reads it. Every field is read defensively: an older or newer app may leave one out.
 */
export interface SummaryRoute {
  readonly method: string;
  readonly route: string;
  readonly requests: number;
  readonly errors: number;
  readonly p95: number | null;
}

export interface LatencyQuantiles {
  readonly p50: number | null;
  readonly p95: number | null;
  readonly p99: number | null;
}

export interface TransportSummary {
  readonly requests: number;
  readonly request_rate_per_second: number;
  readonly errors: number;
  readonly error_ratio: number;
  readonly errors_by_type: Readonly<Record<string, number>>;
  readonly in_flight: number;
  readonly latency_seconds: {
    readonly window: LatencyQuantiles;
    readonly lifetime: LatencyQuantiles;
  };
  readonly top_routes_by_p95: readonly SummaryRoute[];
  readonly top_routes_by_errors: readonly SummaryRoute[];
}

export interface MetricsSummary {
  readonly timestamp: string;
  readonly uptime_seconds: number;
  readonly window_seconds: number;
  readonly quantile_estimate?: string;
  readonly transports: Readonly<Record<string, TransportSummary>>;
}

/** Whether a parsed JSON body looks like a summary (the fields the view cannot do without). */
export function isMetricsSummary(value: unknown): value is MetricsSummary {
  if (typeof value !== 'object' || value === null) return false;
  const summary = value as Record<string, unknown>;
  return (
    typeof summary.uptime_seconds === 'number' &&
    typeof summary.transports === 'object' &&
    summary.transports !== null
  );
}
