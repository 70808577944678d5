import {
  Counter,
  Gauge,
  Histogram,
  Registry,
  type HistogramConfiguration,
} from 'prom-client';
import { reportDegraded, type DegradedInternal } from './degraded.js';

/**
 * prom-client's `Registry#getMetricsAsString(metric)` (not in its type declarations): renders one
 * metric with `this.contentType` and `this._defaultLabels`. The scrape renders each metric through
 * it on a per-scrape object that shadows only the format, so the shared registry never changes.
 */
export const RENDER_ONE_METRIC: DegradedInternal = {
  internal: 'prom-client: Registry#getMetricsAsString',
  loss: "the scrape renders through registry.metrics(), slower and without yielding, and in the registry's own format (OpenMetrics is not negotiated)",
};

/**
 * prom-client's `Registry#_defaultLabels`: the labels `setDefaultLabels()` set, which the
 * library's text writers add to the request families.
 */
export const DEFAULT_LABELS: DegradedInternal = {
  internal: 'prom-client: Registry#_defaultLabels',
  loss: "the request families render through prom-client's own formatting, slower",
};

/**
 * The fields prom-client 15 copies from a metric's configuration onto the instance (`type`,
 * `labelNames`, `enableExemplars`; not in its type declarations). `maxSeries` reads them to
 * guard a metric's label-taking methods.
 */
export const METRIC_FIELDS: DegradedInternal = {
  internal: 'prom-client: Metric#type, #labelNames, #enableExemplars',
  loss: 'maxSeries does not bound the label sets of MetricsService and @Timed/@Counted metrics',
};

/** What `limitLabelSets` needs to know of a prom-client metric. */
export interface MetricShape {
  readonly name: string;
  readonly type: string;
  readonly labelNames: readonly string[];
  readonly exemplars: boolean;
}

type RenderOne = (metric: unknown) => Promise<string>;

/** Registries whose `_defaultLabels` did not hold what `setDefaultLabels()` was given. */
const misplacedDefaults = new WeakSet<object>();

/**
 * Renders one metric of `registry` in `contentType`, as `registry.metrics()` would render it in
 * that format, without touching the registry; `undefined` (and one warning) when prom-client has
 * no such renderer.
 */
export function oneMetricRenderer(
  registry: Registry,
  contentType: string,
): RenderOne | undefined {
  const render = (registry as unknown as { getMetricsAsString?: unknown })
    .getMetricsAsString;
  if (typeof render !== 'function') {
    reportDegraded(RENDER_ONE_METRIC);
    return undefined;
  }
  const scrape: unknown = Object.create(registry, {
    contentType: { value: contentType },
  });
  return (metric) => (render as RenderOne).call(scrape, metric);
}

/**
 * The default labels of `registry` as prom-client keeps them, read live; `undefined` (and one
 * warning) when they are not kept as a plain object.
 */
export function defaultLabelsOf(
  registry: Registry,
): Readonly<Record<string, unknown>> | undefined {
  const labels = (registry as unknown as { _defaultLabels?: unknown })
    ._defaultLabels;
  if (!isPlainObject(labels) || misplacedDefaults.has(registry)) {
    reportDegraded(DEFAULT_LABELS);
    return undefined;
  }
  return labels;
}

/** The shape of a prom-client metric; `undefined` (and one warning) when it cannot be read. */
export function metricShapeOf(metric: object): MetricShape | undefined {
  const { name, type, labelNames, enableExemplars } = metric as Partial<
    Record<'name' | 'type' | 'labelNames' | 'enableExemplars', unknown>
  >;
  if (
    typeof name !== 'string' ||
    typeof type !== 'string' ||
    !Array.isArray(labelNames) ||
    !labelNames.every((label) => typeof label === 'string')
  ) {
    reportDegraded(METRIC_FIELDS);
    return undefined;
  }
  return {
    name,
    type,
    labelNames: labelNames as string[],
    exemplars: enableExemplars === true,
  };
}

/**
 * The start-up self-check: whether `registry` (the module's) has the internals above, and keeps
 * the default labels it was given where the text writers read them. Warns once per internal
 * that is not as expected; the scrape then degrades as each warning says.
 */
export function checkPromClient(
  registry: Registry,
  defaultLabels: Readonly<Record<string, string>>,
): void {
  const probe = metricShapeOf(
    new Counter({
      name: 'probe_total',
      help: 'probe',
      labelNames: ['a'],
      registers: [],
    }),
  );
  if (
    probe !== undefined &&
    (probe.type !== 'counter' || probe.labelNames.join() !== 'a')
  )
    reportDegraded(METRIC_FIELDS);
  if (typeof registry.getMetricsAsArray !== 'function') return; // not prom-client's
  oneMetricRenderer(registry, Registry.PROMETHEUS_CONTENT_TYPE);
  seriesInternals ??= checkSeriesInternals();
  const kept = defaultLabelsOf(registry);
  if (
    kept !== undefined &&
    Object.entries(defaultLabels).some(([name, value]) => kept[name] !== value)
  ) {
    misplacedDefaults.add(registry);
    reportDegraded(DEFAULT_LABELS);
  }
}

function isPlainObject(
  value: unknown,
): value is Readonly<Record<string, unknown>> {
  if (typeof value !== 'object' || value === null) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/**
 * Whether a histogram or counter was made with `enableExemplars: true` (prom-client keeps the
 * setting on the instance, untyped): only then does its `observe`/`inc` take the object form with
 * `exemplarLabels`. Not as expected: `false`, and the metric is used without exemplars.
 */
export function takesExemplars(metric: object): boolean {
  return (metric as { enableExemplars?: unknown }).enableExemplars === true;
}

/**
 * A histogram with `enableExemplars: true` in a registry of either format. prom-client refuses
 * exemplars in a registry whose content type is the text format, but the scrape renders each
 * metric in the negotiated format (see `oneMetricRenderer`), and prom-client writes exemplars in
 * OpenMetrics only: the histogram is made unregistered, then registered.
 */
export function histogramWithExemplars<L extends string>(
  config: HistogramConfiguration<L>,
): Histogram<L> {
  const histogram = new Histogram<L>({
    ...config,
    enableExemplars: true,
    registers: [],
  });
  for (const registry of config.registers ?? [])
    registry.registerMetric(histogram);
  return histogram;
}

/**
 * What the scrape reads of prom-client 15's Counter, Gauge and Histogram to write their sample
 * lines itself (none of it in the type declarations): `hashMap` (one entry per label set, with
 * `labels`, and `value` or `bucketValues`/`sum`/`count`, and exemplars), `upperBounds` and
 * `collect`. Checked once, on probe metrics, before the first scrape that would use it.
 */
export const SERIES_INTERNALS: DegradedInternal = {
  internal:
    'prom-client: Counter/Gauge/Histogram#hashMap, #upperBounds, #collect',
  loss: "MetricsService, @Timed/@Counted, default and users' own metrics render through prom-client's own formatting, slower",
};

/** An exemplar as prom-client keeps it (its `Exemplar` class). */
export interface PromClientExemplar {
  readonly labelSet: Readonly<Record<string, unknown>>;
  readonly value: unknown;
  readonly timestamp: unknown;
}

/** One entry of a counter's or gauge's `hashMap`: one label set. */
export interface ValueSeries {
  readonly labels: Readonly<Record<string, unknown>>;
  readonly value: unknown;
  readonly exemplar?: PromClientExemplar | null;
}

/** One entry of a histogram's `hashMap`: per-bucket counts keyed by `String(upperBound)`. */
export interface HistogramSeries {
  readonly labels: Readonly<Record<string, unknown>>;
  readonly bucketValues: Readonly<Record<string, number>>;
  readonly sum: number;
  readonly count: number;
  /** Keyed like `bucketValues`, and `-1` for +Inf; only with `enableExemplars`. */
  readonly bucketExemplars?: Readonly<
    Record<string, PromClientExemplar | null | undefined>
  >;
}

interface FamilyBase {
  readonly name: string;
  readonly help: string;
  /** Runs the metric's `collect` callback as its `get()` would; a promise when it is async. */
  collect(): Promise<void> | undefined;
}

/** A prom-client metric the scrape writes itself, read through its internals. */
export type PromClientFamily =
  | (FamilyBase & {
      readonly type: 'counter' | 'gauge';
      /** The entries, taken now (a later `inc` of a new label set is not among them). */
      series(): readonly ValueSeries[];
    })
  | (FamilyBase & {
      readonly type: 'histogram';
      readonly upperBounds: readonly number[];
      series(): readonly HistogramSeries[];
    });

interface MetricInternals {
  name?: unknown;
  help?: unknown;
  type?: unknown;
  hashMap?: unknown;
  upperBounds?: unknown;
  collect?: unknown;
  get?: unknown;
  getForPromString?: unknown;
}

let seriesInternals: boolean | undefined;

/** Forgets the check of the metric internals, so a test can run it against another shape. */
export function forgetSeriesInternalsCheck(): void {
  seriesInternals = undefined;
}

/**
 * A counter, gauge or histogram exactly as prom-client makes it (its `get` and
 * `getForPromString` are prom-client's own, so its rendering is what prom-client's `get()`
 * returns), read through its internals; `undefined` for any other metric, which prom-client
 * renders, and for every metric (with one warning) when the internals are not as expected.
 */
export function promClientFamilyOf(
  metric: object,
): PromClientFamily | undefined {
  const family = recognise(metric as MetricInternals);
  if (family === undefined) return undefined;
  seriesInternals ??= checkSeriesInternals();
  return seriesInternals ? family : undefined;
}

function recognise(metric: MetricInternals): PromClientFamily | undefined {
  const { name, help, hashMap } = metric;
  if (
    typeof name !== 'string' ||
    typeof help !== 'string' ||
    typeof hashMap !== 'object' ||
    hashMap === null
  )
    return undefined;
  const collect = (): Promise<void> | undefined => {
    // As prom-client's `get()`: called when truthy, awaited only when it returns a Promise.
    // A throw rejects, as it rejects prom-client's async `get()`: the other metrics still collect.
    if (!metric.collect) return undefined;
    let result: unknown;
    try {
      result = (metric.collect as () => unknown).call(metric);
    } catch (error) {
      return Promise.reject(error as Error);
    }
    return result instanceof Promise ? result.then(() => undefined) : undefined;
  };
  const made = (by: abstract new (...args: never[]) => object): boolean =>
    metric instanceof by;
  const entries = <T>(): readonly T[] => {
    // `Object.values` of a large dictionary-mode object costs twice these lookups.
    const map = metric.hashMap as Record<string, T>;
    const keys = Object.keys(map);
    const values = new Array<T>(keys.length);
    for (let i = 0; i < keys.length; i++) values[i] = map[keys[i]];
    return values;
  };
  if (
    made(Counter) &&
    metric.type === 'counter' &&
    metric.get === Counter.prototype.get &&
    metric.getForPromString === undefined
  )
    return { type: 'counter', name, help, collect, series: entries };
  if (
    made(Gauge) &&
    metric.type === 'gauge' &&
    metric.get === Gauge.prototype.get &&
    metric.getForPromString === undefined
  )
    return { type: 'gauge', name, help, collect, series: entries };
  const { upperBounds } = metric;
  if (
    made(Histogram) &&
    metric.type === 'histogram' &&
    metric.get === Histogram.prototype.get &&
    metric.getForPromString ===
      (Histogram.prototype as MetricInternals).getForPromString &&
    Array.isArray(upperBounds) &&
    upperBounds.every((bound) => typeof bound === 'number')
  )
    return {
      type: 'histogram',
      name,
      help,
      upperBounds: upperBounds as number[],
      collect,
      series: entries,
    };
  return undefined;
}

/**
 * Whether probe metrics keep their series where `promClientFamilyOf` reads them: one entry per
 * label set holding the very label object given, values, bucket counts keyed by the bound,
 * exemplars. Warns once when not.
 */
function checkSeriesInternals(): boolean {
  const labels = { a: 'x' };
  const counter = new Counter<string>({
    name: 'probe_total',
    help: 'probe',
    labelNames: ['a'],
    registers: [],
    enableExemplars: true,
  });
  counter.inc({ labels, value: 2, exemplarLabels: { e: '1' } });
  const gauge = new Gauge<string>({
    name: 'probe',
    help: 'probe',
    labelNames: ['a'],
    registers: [],
  });
  gauge.set(labels, 3);
  const histogram = new Histogram<string>({
    name: 'probe_seconds',
    help: 'probe',
    labelNames: ['a'],
    buckets: [0.5, 1],
    registers: [],
    enableExemplars: true,
  });
  histogram.observe({ labels, value: 0.7, exemplarLabels: { e: '1' } });
  histogram.observe({ labels, value: 5, exemplarLabels: { e: '2' } });
  const [counted] = (recognise(counter as MetricInternals)?.series() ??
    []) as ValueSeries[];
  const [set] = (recognise(gauge as MetricInternals)?.series() ??
    []) as ValueSeries[];
  const family = recognise(histogram as MetricInternals);
  const [observed] = (family?.series() ?? []) as HistogramSeries[];
  const works =
    counted?.labels === labels &&
    counted.value === 2 &&
    counted.exemplar?.value === 2 &&
    counted.exemplar.labelSet.e === '1' &&
    typeof counted.exemplar.timestamp === 'number' &&
    set?.labels === labels &&
    set.value === 3 &&
    family?.type === 'histogram' &&
    family.upperBounds.join() === '0.5,1' &&
    observed?.labels === labels &&
    observed.bucketValues['0.5'] === 0 &&
    observed.bucketValues['1'] === 1 &&
    observed.sum === 5.7 &&
    observed.count === 2 &&
    observed.bucketExemplars?.['1']?.value === 0.7 &&
    observed.bucketExemplars['-1']?.value === 5;
  if (!works) reportDegraded(SERIES_INTERNALS);
  return works;
}
