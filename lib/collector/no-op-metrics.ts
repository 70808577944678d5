import type { Counter, Gauge, Histogram, Summary } from 'prom-client';

/** What `MetricsService` getters return with `enabled: false`: metrics that record nothing. */
type Kind = 'counter' | 'gauge' | 'histogram' | 'summary';

function noop(): void {}

/** A timer that records nothing, but still returns the seconds it measured, as prom-client's do. */
function startTimer(): () => number {
  const startedAt = performance.now();
  return () => (performance.now() - startedAt) / 1000;
}

function noOpMetric(type: Kind): object {
  const metric: Record<string, unknown> = {
    name: '',
    help: '',
    type,
    labelNames: [],
    inc: noop,
    dec: noop,
    set: noop,
    setToCurrentTime: noop,
    observe: noop,
    zero: noop,
    reset: noop,
    remove: noop,
    startTimer,
    get: () =>
      Promise.resolve({
        name: '',
        help: '',
        type,
        values: [],
        aggregator: 'sum',
      }),
  };
  metric.labels = () => metric;
  return Object.freeze(metric);
}

/** One shared no-op per kind: a getter costs a name check, the calls on it nothing. */
export const NO_OP_METRICS = {
  counter: noOpMetric('counter') as Counter<string>,
  gauge: noOpMetric('gauge') as Gauge<string>,
  histogram: noOpMetric('histogram') as Histogram<string>,
  summary: noOpMetric('summary') as Summary<string>,
} as const;
