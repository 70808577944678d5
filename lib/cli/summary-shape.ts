/**
 * The JSON of `GET <metrics path>/summary` (`MetricsService.summary()`), the terminal view's
 * input. The view reads every field defensively: an older or newer app may leave one out.
 */
export type {
  LatencyQuantiles,
  MetricsSummary,
  RouteSummary,
  TransportSummary,
} from '../summary/metrics-summary.interface.js';
import type { MetricsSummary } from '../summary/metrics-summary.interface.js';

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
