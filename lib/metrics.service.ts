import { Inject, Injectable, Optional } from '@nestjs/common';
import {
  Counter,
  Gauge,
  Histogram,
  Summary,
  type CounterConfiguration,
  type GaugeConfiguration,
  type HistogramConfiguration,
  type Registry,
  type SummaryConfiguration,
} from 'prom-client';
import { histogramWithExemplars } from './compat/prom-client.js';
import {
  LABEL_NAME_PATTERN,
  METRIC_NAME_PATTERN,
  METRICS_REGISTRY,
  METRICS_RESOLVED_OPTIONS,
} from './metrics.constants.js';
import {
  invalidLabelNameMessage,
  invalidMetricNameMessage,
  metricConflictMessage,
} from './metrics.messages.js';
import { limitLabelSets } from './cardinality/limit-label-sets.js';
import {
  MetricsCollector,
  type CollectorLabels,
  type MetricReading,
} from './collector/metrics-collector.js';
import { NO_OP_METRICS } from './collector/no-op-metrics.js';
import { RequestMetrics } from './recorder/request-metrics.js';
import type { ResolvedMetricsOptions } from './interfaces/metrics-module-options.interface.js';
import type {
  MetricsSnapshot,
  MetricsSummary,
} from './summary/metrics-summary.interface.js';
import { MetricsSummaryReader } from './summary/metrics-summary.reader.js';
import {
  HANDLER_LABEL_NAMES,
  handlerContextSwitch,
} from './context/handler-context.js';
import { withHandlerLabels } from './context/handler-labels.js';

/** The metrics created with `handlerLabels: true`, in any registry. */
const handlerLabelled = new WeakSet<object>();

type Options<C, L extends string> = Omit<
  C,
  'name' | 'registers' | 'help' | 'labelNames'
> & {
  /** Default: a text naming the metric and saying it was created without one. */
  help?: string;
  /** The label names; with a literal list, label sets of other names are compile errors. */
  labelNames?: readonly L[];
  /**
   * Adds the labels `transport` and `route` of the handler (request, message, job, GraphQL
   * operation) in progress when an observation is made; `none` outside any handler. Default `false`.
   */
  handlerLabels?: boolean;
};
export type CounterOptions<L extends string = string> = Options<
  CounterConfiguration<L>,
  L
>;
export type GaugeOptions<L extends string = string> = Options<
  GaugeConfiguration<L>,
  L
>;
/**
 * `buckets` defaults to the module's `buckets` (of a map by transport, the `http` list), like
 * `@Timed`.
 */
export type HistogramOptions<L extends string = string> = Options<
  HistogramConfiguration<L>,
  L
>;
/** Summaries take no `handlerLabels`. */
export type SummaryOptions<L extends string = string> = Omit<
  Options<SummaryConfiguration<L>, L>,
  'handlerLabels'
>;

type Kind = 'counter' | 'gauge' | 'histogram' | 'summary';
type AnyMetric =
  Counter<string> | Gauge<string> | Histogram<string> | Summary<string>;
type RegisteredMetric = AnyMetric & { type?: string; labelNames?: string[] };

/**
 * Custom metrics in the module's registry. Every getter is get-or-create: asking twice for the
 * same name returns the same metric, and asking with another type or other label names throws.
 * Names get the module's `prefix`. The label names given as a literal list are the metric's label
 * type, so `inc({ prodct: 'pen' })` on a metric labelled `['product']` does not compile. Each metric holds at most `maxSeries` label sets; new ones
 * beyond it are recorded in one series whose label values read `OVERFLOW`.
 */
@Injectable()
export class MetricsService {
  private readonly collector: MetricsCollector;
  /** With `enabled: false`, the names the getters checked (each once). */
  private readonly checkedNames = new Set<string>();

  constructor(
    @Inject(METRICS_REGISTRY) readonly registry: Registry,
    @Inject(METRICS_RESOLVED_OPTIONS)
    private readonly options: ResolvedMetricsOptions,
    @Optional() requests?: RequestMetrics,
  ) {
    this.collector = new MetricsCollector({
      registry,
      prefix: options.prefix,
      maxSeries: options.maxSeries,
      enabled: options.enabled,
      requests,
      counter: (name, labelNames) => this.counter(name, { labelNames }),
      gauge: (name, labelNames) => this.gauge(name, { labelNames }),
      histogram: (name, labelNames) => this.histogram(name, { labelNames }),
    });
  }

  counter<const L extends string = string>(
    name: string,
    options: CounterOptions<L> = {},
  ): Counter<L> {
    return this.getOrCreate(
      'counter',
      name,
      options,
      (config) => new Counter<L>(config),
    );
  }

  /**
   * The gauge `name` (get-or-create); with a number instead of options, the collector's
   * `gauge(name, value, labels?)`: sets the gauge of the collector name `name` to `value`.
   */
  gauge<const L extends string = string>(
    name: string,
    options?: GaugeOptions<L>,
  ): Gauge<L>;
  gauge(name: string, value: number, labels?: CollectorLabels): void;
  gauge<const L extends string = string>(
    name: string,
    optionsOrValue: GaugeOptions<L> | number = {},
    labels?: CollectorLabels,
  ): Gauge<L> | void {
    if (typeof optionsOrValue === 'number') {
      this.collector.gauge(name, optionsOrValue, labels);
      return;
    }
    return this.getOrCreate(
      'gauge',
      name,
      optionsOrValue,
      (config) => new Gauge<L>(config),
    );
  }

  histogram<const L extends string = string>(
    name: string,
    options: HistogramOptions<L> = {},
  ): Histogram<L> {
    return this.getOrCreate(
      'histogram',
      name,
      {
        ...options,
        buckets: options.buckets ?? [...this.options.buckets.http],
      },
      (config: HistogramConfiguration<L>) =>
        config.enableExemplars === true
          ? histogramWithExemplars(config)
          : new Histogram<L>(config),
    );
  }

  /**
   * Without arguments: the JSON summary per transport (requests, rate, error ratio, errors by
   * type, p50/p95/p99 over the window and the lifetime, in flight, top routes), as
   * `GET <path>/summary` serves it. With a name: the prom-client Summary `name` (get-or-create).
   */
  summary(): Promise<MetricsSummary>;
  summary<const L extends string = string>(
    name: string,
    options?: SummaryOptions<L>,
  ): Summary<L>;
  summary<const L extends string = string>(
    name?: string,
    options: SummaryOptions<L> = {},
  ): Summary<L> | Promise<MetricsSummary> {
    if (name === undefined) return this.readSummary();
    return this.getOrCreate(
      'summary',
      name,
      options,
      (config) => new Summary<L>(config),
    );
  }

  /**
   * Starts timing; the returned function records the elapsed seconds in the histogram `name` and
   * returns them. Labels given at the end are merged over those given at the start. A histogram
   * declared beforehand with `histogram(name, { labelNames, help, buckets })` is used as it is, so
   * declare it first when some labels are only known at the end; otherwise it is created with the
   * start labels' names.
   */
  startTimer(
    name: string,
    labels: Record<string, string | number> = {},
  ): (endLabels?: Record<string, string | number>) => number {
    if (!this.options.enabled) {
      this.histogram(name, { labelNames: Object.keys(labels) });
      return NO_OP_METRICS.histogram.startTimer();
    }
    const { fullName, metric: declared } = this.registered(name);
    const histogram =
      declared?.type === 'histogram' &&
      Object.keys(labels).every((label) => declared.labelNames?.includes(label))
        ? (declared as Histogram<string>)
        : this.histogram(name, { labelNames: Object.keys(labels) });
    const labelNames = new Set<string>(
      (histogram as RegisteredMetric).labelNames ?? [],
    );
    const startedAt = performance.now();
    return (endLabels) => {
      const seconds = (performance.now() - startedAt) / 1000;
      const unknown = Object.keys(endLabels ?? {}).filter(
        (label) => !labelNames.has(label),
      );
      if (unknown.length > 0) {
        throw new Error(
          metricConflictMessage(
            fullName,
            `with label names [${[...labelNames].join(', ')}]; declare it with histogram() to add [${unknown.join(', ')}]`,
          ),
        );
      }
      histogram.observe({ ...labels, ...endLabels }, seconds);
      return seconds;
    };
  }

  // The collector API: one line records a custom metric by a dotted name (see the README,
  // "Recording from code: the collector API").

  /** Records `seconds` in the histogram `<name>_seconds` (the module's HTTP buckets). */
  timing(name: string, seconds: number, labels?: CollectorLabels): void {
    this.collector.timing(name, seconds, labels);
  }

  /**
   * Starts timing into `<name>_seconds`; the returned function ends it, records it (once, however
   * often it is called) and returns the seconds.
   */
  timer(name: string, labels?: CollectorLabels): () => number {
    return this.collector.timer(name, labels);
  }

  /** Adds `amount` to the counter `<name>_total`, or moves the gauge `gauge()` made of `name`. */
  increment(name: string, amount = 1, labels?: CollectorLabels): void {
    this.collector.increment(name, amount, labels);
  }

  /** Moves the gauge `gauge()` made of `name` down; refused for a counter (it only goes up). */
  decrement(name: string, amount = 1, labels?: CollectorLabels): void {
    this.collector.decrement(name, amount, labels);
  }

  // gauge(name, value, labels?) sets the gauge `<name>` (an overload of gauge() above);
  // increment()/decrement() move it from then on.

  /**
   * One series: counters `{ value }`, gauges `{ current, min, max, mean }`, timings and histograms
   * `{ count, sum, mean, p50, p95, p99 }`. Rejects, naming what exists, for an unknown name or series.
   */
  get(name: string, labels?: CollectorLabels): Promise<MetricReading> {
    return this.collector.get(name, labels);
  }

  /** Zeroes every family of the registry, request families included, keeping their label sets. */
  reset(): Promise<void> {
    return this.collector.reset();
  }

  /** Zeroes counters and histograms (what only goes up), keeping label sets; gauges keep their values. */
  resetCounters(): Promise<void> {
    return this.collector.resetCounters();
  }

  /** The exposition text of the registry, as `/metrics` serves it. */
  metrics(): Promise<string> {
    return this.registry.metrics();
  }

  /** The prefixed name, and the metric already registered under it, if any. */
  private registered(name: string): {
    fullName: string;
    metric: RegisteredMetric | undefined;
  } {
    const fullName = `${this.options.prefix}${name}`;
    const metric = this.registry.getSingleMetric(fullName) as
      RegisteredMetric | undefined;
    return { fullName, metric };
  }

  /**
   * With `enabled: false`: a shared metric that records nothing. The names are checked as when
   * enabled (once per name), so a name that would fail start-up fails here too.
   */
  private disabledMetric<M extends AnyMetric>(
    kind: Kind,
    name: string,
    options: { labelNames?: readonly string[] },
  ): M {
    if (!this.checkedNames.has(name)) {
      assertValidNames(`${this.options.prefix}${name}`, [
        ...(options.labelNames ?? []),
      ]);
      this.checkedNames.add(name);
    }
    return NO_OP_METRICS[kind] as M;
  }

  private getOrCreate<M extends AnyMetric>(
    kind: Kind,
    name: string,
    given: {
      help?: string;
      labelNames?: readonly string[];
      handlerLabels?: boolean;
    } & Record<string, unknown>,
    create: (config: never) => M,
  ): M {
    if (!this.options.enabled) return this.disabledMetric(kind, name, given);
    const { handlerLabels: askedHandlerLabels, ...options } = given;
    const handlerLabels = askedHandlerLabels === true && kind !== 'summary';
    const { fullName, metric: existing } = this.registered(name);
    const ownLabelNames = [...(options.labelNames ?? [])];
    const labelNames = handlerLabels
      ? [...ownLabelNames, ...HANDLER_LABEL_NAMES]
      : ownLabelNames;
    if (existing !== undefined) {
      if (existing.type !== kind) {
        throw new Error(
          metricConflictMessage(
            fullName,
            `as a ${existing.type}, not a ${kind}`,
          ),
        );
      }
      const had = [...(existing.labelNames ?? [])].sort();
      const wanted = [...labelNames].sort();
      if (had.join(',') !== wanted.join(',')) {
        throw new Error(
          metricConflictMessage(
            fullName,
            `with label names [${had.join(', ')}], not [${wanted.join(', ')}]`,
          ),
        );
      }
      if (handlerLabelled.has(existing) !== handlerLabels) {
        throw new Error(
          metricConflictMessage(
            fullName,
            handlerLabelled.has(existing)
              ? 'with handlerLabels: true'
              : 'without handlerLabels',
          ),
        );
      }
      return existing as M;
    }
    if (handlerLabels) assertNoHandlerLabelNames(fullName, ownLabelNames);
    assertValidNames(fullName, labelNames);
    const metric = create({
      ...options,
      name: fullName,
      help: options.help ?? defaultHelp(kind, fullName),
      labelNames,
      registers: [this.registry],
    } as never);
    const limited = limitLabelSets(metric, this.options.maxSeries);
    if (!handlerLabels) return limited;
    handlerLabelled.add(limited);
    // From now on this app's instrumentations enter the handler context of each request.
    handlerContextSwitch(this.options).on = true;
    return withHandlerLabels(
      limited,
      ownLabelNames,
      options.enableExemplars === true,
    );
  }

  @Inject(MetricsSummaryReader)
  private readonly summaryReader: MetricsSummaryReader | undefined;

  /**
   * Every family of the registry as JSON: counters and gauges with their values, histograms with
   * count, sum, mean and p50/p95/p99 (bucket estimates over the lifetime) per label set, summaries
   * with their quantiles; `timestamp` and `uptime_seconds`. `GET <path>/summary?full=1` serves it.
   */
  snapshot(): Promise<MetricsSnapshot> {
    return this.reader().snapshot();
  }

  private readSummary(): Promise<MetricsSummary> {
    return this.reader().summary();
  }

  private reader(): MetricsSummaryReader {
    if (this.summaryReader === undefined)
      throw new Error(
        'MetricsService.summary() and snapshot() need the MetricsModule: get MetricsService from the app, not with new.',
      );
    return this.summaryReader;
  }
}

/** `handlerLabels` adds `transport` and `route`: the metric cannot declare them itself too. */
function assertNoHandlerLabelNames(
  fullName: string,
  labelNames: readonly string[],
): void {
  const taken = labelNames.filter((label) =>
    (HANDLER_LABEL_NAMES as readonly string[]).includes(label),
  );
  if (taken.length > 0)
    throw new Error(
      `nestjs-metrics: metric "${fullName}" asks for handlerLabels, which adds the labels transport and route itself; leave [${taken.join(', ')}] out of its labelNames.`,
    );
}

/**
 * The help of a metric created without one: it names the metric and where it came from, so a
 * reader of `/metrics` or of a dashboard tooltip knows whom to ask, instead of repeating the name.
 */
export function defaultHelp(kind: Kind, fullName: string): string {
  const type = `${kind.charAt(0).toUpperCase()}${kind.slice(1)}`;
  return `${type} ${fullName}, created by MetricsService without a help text (set the help option to describe it).`;
}

/** Throws when a metric or label name breaks Prometheus' rules. */
export function assertValidNames(
  name: string,
  labelNames: readonly string[],
): void {
  if (!METRIC_NAME_PATTERN.test(name))
    throw new Error(invalidMetricNameMessage(name));
  for (const label of labelNames) {
    if (!LABEL_NAME_PATTERN.test(label) || label.startsWith('__')) {
      throw new Error(invalidLabelNameMessage(name, label));
    }
  }
}
