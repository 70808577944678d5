import { Histogram, type Registry } from 'prom-client';
import { metricShapeOf } from '../compat/prom-client.js';
import { OVERFLOW_LABEL_VALUE } from '../metrics.constants.js';
import { FamilyView } from '../recorder/family-view.js';
import { isLiveState, noteRegistryReset } from '../read/registry-state.js';
import type { SeriesStore } from '../recorder/series-store.js';

type Labels = Record<string, string | number>;

interface ResettableMetric {
  get(): Promise<{
    type: string;
    values: { labels: Labels; metricName?: string }[];
  }>;
  reset(): void;
  inc?(...args: unknown[]): unknown;
  set?(...args: unknown[]): unknown;
  zero?(labels: Labels): unknown;
}

/** Families that only go up: Prometheus reads a histogram's (and a summary's) series as counters. */
const CUMULATIVE = new Set(['counter', 'histogram', 'summary']);

/**
 * Zeroes the families of `registry` and keeps their label sets: every series that existed reads 0
 * and stays in the scrape (prom-client's own `reset()` drops a labelled metric's series, so each is
 * set again at 0). `cumulativeOnly` leaves gauges as they are. The request families are zeroed in
 * `requests` in place, except `concurrent_requests` (requests still in flight) and
 * `uptime_seconds`, which are read live, and the families that hold a current state
 * (`markLiveState`: connections, the log push socket, queue depth, host and GPU readings). Reads every family first, then zeroes them all in one
 * synchronous pass, so a label set is either kept or recorded afresh.
 */
export async function zeroRegistry(
  registry: Registry,
  requests: SeriesStore | undefined,
  cumulativeOnly: boolean,
): Promise<void> {
  const targets: { metric: ResettableMetric; type: string; sets: Labels[] }[] =
    [];
  for (const metric of registry.getMetricsAsArray() as unknown as ResettableMetric[]) {
    if (metric instanceof FamilyView || isLiveState(metric)) continue;
    const { type, values } = await metric.get();
    if (cumulativeOnly && !CUMULATIVE.has(type)) continue;
    targets.push({ metric, type, sets: labelSetsOf(values) });
  }
  for (const { metric, type, sets } of targets) zeroMetric(metric, type, sets);
  if (requests !== undefined) zeroRequests(requests);
  noteRegistryReset(registry);
}

function zeroMetric(
  metric: ResettableMetric,
  type: string,
  sets: Labels[],
): void {
  metric.reset();
  // A summary's reset() keeps its series at 0; a counter's or gauge's without labels is set to 0.
  if (type === 'summary') return;
  const exemplars = metricShapeOf(metric)?.exemplars === true;
  for (const labels of sets) {
    const empty = Object.keys(labels).length === 0;
    if (type === 'counter') {
      if (empty) continue;
      if (exemplars) metric.inc?.({ labels, value: 0 });
      else metric.inc?.(labels, 0);
    } else if (type === 'gauge') {
      if (!empty) metric.set?.(labels, 0);
    } else if (type === 'histogram') {
      // The OVERFLOW series takes no maxSeries slot: zero it past the guard, which keeps what it holds.
      if (
        !empty &&
        Object.values(labels).every((v) => v === OVERFLOW_LABEL_VALUE)
      )
        Histogram.prototype.zero.call(metric as never, labels);
      else metric.zero?.(labels);
    }
  }
}

function labelSetsOf(
  values: readonly { labels: Labels; metricName?: string }[],
): Labels[] {
  const sets = new Map<string, Labels>();
  for (const { labels } of values) {
    const own: Labels = { ...labels };
    delete own.le;
    delete own.quantile;
    const key = JSON.stringify(
      Object.entries(own).sort(([a], [b]) => (a < b ? -1 : 1)),
    );
    if (!sets.has(key)) sets.set(key, own);
  }
  return [...sets.values()];
}

/** Every request series reads 0 and stays; routes and their `maxSeries` slots are kept. */
function zeroRequests(store: SeriesStore): void {
  for (const route of store.allRoutes()) {
    for (const series of route.statuses.values()) {
      series.count = 0;
      series.requestBytes = 0;
      series.responseBytes = 0;
      series.durationSum = 0;
      series.bucketCounts.fill(0);
    }
    for (const errorType of route.errors.keys()) route.errors.set(errorType, 0);
  }
}
