import type { FamilyReading } from '../read/registry-reading.js';
import type {
  MetricsSnapshot,
  SnapshotHistogramSeries,
  SnapshotSummarySeries,
} from './metrics-summary.interface.js';
import { QUANTILE_ESTIMATE, quantile } from './summary-builder.js';

/**
 * Every family of a registry reading as JSON, by type and full name. Histogram series carry
 * count, sum, mean and p50/p95/p99 over the whole lifetime (since start or the last reset),
 * estimated from their buckets; Summary series keep prom-client's own quantiles.
 */
export function buildSnapshot(
  families: readonly FamilyReading[],
  uptimeSeconds: number,
  timestamp: Date,
): MetricsSnapshot {
  const snapshot: MetricsSnapshot = {
    timestamp: timestamp.toISOString(),
    uptime_seconds: uptimeSeconds,
    quantile_estimate: QUANTILE_ESTIMATE,
    counters: {},
    gauges: {},
    histograms: {},
    summaries: {},
  };
  for (const family of families) {
    const { name, help } = family;
    switch (family.type) {
      case 'counter':
      case 'gauge':
        (family.type === 'counter' ? snapshot.counters : snapshot.gauges)[
          name
        ] = {
          help,
          series: family.series.map(({ labels, value }) => ({
            labels: { ...labels },
            value,
          })),
        };
        break;
      case 'histogram':
        snapshot.histograms[name] = {
          help,
          series: family.series.map(
            ({ labels, count, sum, buckets }): SnapshotHistogramSeries => ({
              labels: { ...labels },
              count,
              sum,
              mean: count > 0 ? sum / count : null,
              p50: quantile(0.5, buckets),
              p95: quantile(0.95, buckets),
              p99: quantile(0.99, buckets),
            }),
          ),
        };
        break;
      case 'summary':
        snapshot.summaries[name] = {
          help,
          series: family.series.map(
            ({ labels, count, sum, quantiles }): SnapshotSummarySeries => ({
              labels: { ...labels },
              count,
              sum,
              mean: count > 0 ? sum / count : null,
              quantiles: Object.fromEntries(
                quantiles.map(({ quantile: q, value }) => [
                  String(q),
                  Number.isFinite(value) ? value : null,
                ]),
              ),
            }),
          ),
        };
        break;
    }
  }
  return snapshot;
}
