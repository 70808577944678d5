import { Inject, Injectable } from '@nestjs/common';
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
import type { ResolvedMetricsOptions } from './interfaces/metrics-module-options.interface.js';
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
  constructor(
    @Inject(METRICS_REGISTRY) readonly registry: Registry,
    @Inject(METRICS_RESOLVED_OPTIONS)
    private readonly options: ResolvedMetricsOptions,
  ) {}

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

  gauge<const L extends string = string>(
    name: string,
    options: GaugeOptions<L> = {},
  ): Gauge<L> {
    return this.getOrCreate(
      'gauge',
      name,
      options,
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
      (config) => new Histogram<L>(config),
    );
  }

  summary<const L extends string = string>(
    name: string,
    options: SummaryOptions<L> = {},
  ): Summary<L> {
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
