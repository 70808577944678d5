import {
  Counter,
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
