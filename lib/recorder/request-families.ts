import type { Registry } from 'prom-client';
import {
  FamilyView,
  type FamilyAggregator,
  type FamilyValue,
  type SampleTextContext,
} from './family-view.js';
import type { SeriesStore, StatusSeries } from './series-store.js';
import {
  counterLines,
  errorLines,
  histogramLines,
} from './request-text-writer.js';

/** Labels of the families counted per transport, method, route and status. */
export const STATUS_LABELS = [
  'transport',
  'method',
  'route',
  'status',
] as const;
/** Labels of `errors_total`. */
export const ERROR_LABELS = [
  'transport',
  'method',
  'route',
  'error_type',
] as const;

/** Where a family's values come from in the series store. */
type FamilySource =
  | {
      /** A counter of every status series. */
      readonly kind: 'status';
      readonly pick: (series: StatusSeries) => number;
      /** Carries the series' last exemplar (OpenMetrics, with `exemplars` on). */
      readonly exemplars?: boolean;
    }
  /** The duration histogram of every status series, with its transport's `buckets`. */
  | { readonly kind: 'duration' }
  /** The error counts of every route, by `error_type`. */
  | { readonly kind: 'errors' }
  /** Requests in flight per transport. */
  | { readonly kind: 'inFlight' }
  /** Seconds since the store was created. */
  | { readonly kind: 'uptime' };

/** One request family, described once: the prom-client view and the text writer derive from it. */
export interface RequestFamily {
  /** The name, before the `prefix`. */
  readonly name: string;
  readonly help: string;
  readonly type: 'counter' | 'gauge' | 'histogram';
  readonly labels: readonly string[];
  /** How `cluster` aggregation combines the workers' values. */
  readonly aggregator: FamilyAggregator;
  readonly source: FamilySource;
}

/** The request families every transport shares, in the order they are registered and scraped. */
export const REQUEST_FAMILIES: readonly RequestFamily[] = [
  {
    name: 'requests_total',
    help: 'Requests handled, by transport, method, route and status.',
    type: 'counter',
    labels: STATUS_LABELS,
    aggregator: 'sum',
    source: { kind: 'status', pick: (s) => s.count, exemplars: true },
  },
  {
    name: 'request_bytes_total',
    help: 'Body bytes received with requests.',
    type: 'counter',
    labels: STATUS_LABELS,
    aggregator: 'sum',
    source: { kind: 'status', pick: (s) => s.requestBytes },
  },
  {
    name: 'response_bytes_total',
    help: 'Body bytes sent with responses.',
    type: 'counter',
    labels: STATUS_LABELS,
    aggregator: 'sum',
    source: { kind: 'status', pick: (s) => s.responseBytes },
  },
  {
    name: 'request_duration_seconds',
    help: 'Time from the arrival of a request until its response ended, in seconds.',
    type: 'histogram',
    labels: STATUS_LABELS,
    aggregator: 'sum',
    source: { kind: 'duration' },
  },
  {
    name: 'concurrent_requests',
    help: 'Requests in flight.',
    type: 'gauge',
    labels: ['transport'],
    aggregator: 'sum',
    source: { kind: 'inFlight' },
  },
  {
    name: 'errors_total',
    help: 'Requests that ended in an error, by error_type.',
    type: 'counter',
    labels: ERROR_LABELS,
    aggregator: 'sum',
    source: { kind: 'errors' },
  },
  {
    name: 'uptime_seconds',
    help: 'Seconds since the metrics module started.',
    type: 'gauge',
    labels: [],
    aggregator: 'max',
    source: { kind: 'uptime' },
  },
];

/** Names of the request families, before the prefix. */
export const REQUEST_FAMILY_NAMES: readonly string[] = REQUEST_FAMILIES.map(
  (family) => family.name,
);

/** Every label name the request families set. */
export const REQUEST_LABEL_NAMES: readonly string[] = [
  ...new Set(REQUEST_FAMILIES.flatMap((family) => family.labels)),
];

/** The prefixed names of the families whose label sets a `maxSeries` limit counts together. */
export function limitedFamilies(prefix: string): {
  status: string[];
  error: string[];
} {
  const named = (kinds: readonly FamilySource['kind'][]) =>
    REQUEST_FAMILIES.filter((family) => kinds.includes(family.source.kind)).map(
      (family) => `${prefix}${family.name}`,
    );
  return { status: named(['status', 'duration']), error: named(['errors']) };
}

/** Registers the view of every request family of `store` in `registry`. */
export function registerRequestFamilies(
  registry: Registry,
  prefix: string,
  store: SeriesStore,
): void {
  for (const family of REQUEST_FAMILIES)
    familyView(family, prefix, store).register(registry);
}

function familyView(
  family: RequestFamily,
  prefix: string,
  store: SeriesStore,
): FamilyView {
  const { source, labels } = family;
  const clear = () => store.clear();
  const view = (
    read: (name: string) => FamilyValue[],
    reset: () => void,
    write?: (context: SampleTextContext) => Iterable<string>,
  ) =>
    new FamilyView(
      `${prefix}${family.name}`,
      family.help,
      family.type,
      labels,
      read,
      reset,
      family.aggregator,
      write,
    );
  switch (source.kind) {
    case 'status':
      return view(
        () => readStatuses(store, source.pick, source.exemplars === true),
        clear,
        (context) =>
          counterLines(
            store,
            context,
            labels,
            source.pick,
            source.exemplars === true,
          ),
      );
    case 'duration':
      return view(
        (name) => readHistogram(store, name),
        clear,
        (context) => histogramLines(store, context, labels),
      );
    case 'errors':
      return view(
        () => readErrors(store),
        clear,
        (context) => errorLines(store, context, labels),
      );
    case 'inFlight':
      return view(() => readInFlight(store), noop);
    case 'uptime':
      return view(
        () => [
          { value: (performance.now() - store.startedAt) / 1000, labels: {} },
        ],
        noop,
      );
  }
}

function noop(): void {}

// The readers below give prom-client the same values the text writers write.

function readStatuses(
  store: SeriesStore,
  pick: (series: StatusSeries) => number,
  exemplars: boolean,
): FamilyValue[] {
  const values: FamilyValue[] = [];
  for (const series of store.allStatuses()) {
    const value: FamilyValue = { value: pick(series), labels: series.labels };
    const exemplar = exemplars ? series.exemplars?.count : undefined;
    if (exemplar !== undefined) value.exemplar = exemplar;
    values.push(value);
  }
  return values;
}

function readHistogram(store: SeriesStore, name: string): FamilyValue[] {
  const values: FamilyValue[] = [];
  const bucketName = `${name}_bucket`;
  for (const series of store.allStatuses()) {
    const bounds = series.bounds;
    const exemplars = series.exemplars?.buckets;
    let cumulative = 0;
    for (let i = 0; i <= bounds.length; i++) {
      cumulative += series.bucketCounts[i];
      const value: FamilyValue = {
        value: i < bounds.length ? cumulative : series.count,
        labels: { le: i < bounds.length ? bounds[i] : '+Inf' },
        metricName: bucketName,
        sharedLabels: series.labels,
      };
      const exemplar = exemplars?.[i];
      if (exemplar !== undefined) value.exemplar = exemplar;
      values.push(value);
    }
    values.push({
      value: series.durationSum,
      labels: {},
      metricName: `${name}_sum`,
      sharedLabels: series.labels,
    });
    values.push({
      value: series.count,
      labels: {},
      metricName: `${name}_count`,
      sharedLabels: series.labels,
    });
  }
  return values;
}

function readInFlight(store: SeriesStore): FamilyValue[] {
  return [...store.inFlight].map(([transport, value]) => ({
    value,
    labels: { transport },
  }));
}

function readErrors(store: SeriesStore): FamilyValue[] {
  const values: FamilyValue[] = [];
  for (const route of store.allRoutes()) {
    for (const [errorType, count] of route.errors) {
      values.push({
        value: count,
        labels: {
          transport: route.transport,
          method: route.method,
          route: route.route,
          error_type: errorType,
        },
      });
    }
  }
  return values;
}
