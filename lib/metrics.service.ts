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
import { LABEL_NAME_PATTERN, METRIC_NAME_PATTERN, METRICS_REGISTRY, METRICS_RESOLVED_OPTIONS } from './metrics.constants.js';
import { invalidLabelNameMessage, invalidMetricNameMessage, metricConflictMessage } from './metrics.messages.js';
import type { ResolvedMetricsOptions } from './interfaces/metrics-module-options.interface.js';

type Options<C> = Omit<C, 'name' | 'registers' | 'help'> & { help?: string };
export type CounterOptions = Options<CounterConfiguration<string>>;
export type GaugeOptions = Options<GaugeConfiguration<string>>;
export type HistogramOptions = Options<HistogramConfiguration<string>>;
export type SummaryOptions = Options<SummaryConfiguration<string>>;

type Kind = 'counter' | 'gauge' | 'histogram' | 'summary';
type AnyMetric = Counter<string> | Gauge<string> | Histogram<string> | Summary<string>;

/**
 * Custom metrics in the module's registry. Every getter is get-or-create: asking twice for the
 * same name returns the same metric, and asking with another type or other label names throws.
 * Names get the module's `prefix`.
 */
@Injectable()
export class MetricsService {
  constructor(
    @Inject(METRICS_REGISTRY) readonly registry: Registry,
    @Inject(METRICS_RESOLVED_OPTIONS) private readonly options: ResolvedMetricsOptions,
  ) {}

  counter(name: string, options: CounterOptions = {}): Counter<string> {
    return this.getOrCreate('counter', name, options, (config) => new Counter(config));
  }

  gauge(name: string, options: GaugeOptions = {}): Gauge<string> {
    return this.getOrCreate('gauge', name, options, (config) => new Gauge(config));
  }

  histogram(name: string, options: HistogramOptions = {}): Histogram<string> {
    return this.getOrCreate('histogram', name, options, (config) => new Histogram(config));
  }

  summary(name: string, options: SummaryOptions = {}): Summary<string> {
    return this.getOrCreate('summary', name, options, (config) => new Summary(config));
  }

  /**
   * Starts timing; the returned function records the elapsed seconds in the histogram `name`
   * (created with the given label names) and returns them. Labels given at the end are merged in.
   */
  startTimer(name: string, labels: Record<string, string | number> = {}): (endLabels?: Record<string, string | number>) => number {
    const histogram = this.histogram(name, { labelNames: Object.keys(labels) });
    const startedAt = performance.now();
    return (endLabels) => {
      const seconds = (performance.now() - startedAt) / 1000;
      histogram.observe({ ...labels, ...endLabels }, seconds);
      return seconds;
    };
  }

  /** The exposition text of the registry, as `/metrics` serves it. */
  metrics(): Promise<string> {
    return this.registry.metrics();
  }

  private getOrCreate<M extends AnyMetric>(
    kind: Kind,
    name: string,
    options: { help?: string; labelNames?: readonly string[] } & Record<string, unknown>,
    create: (config: never) => M,
  ): M {
    const fullName = `${this.options.prefix}${name}`;
    const labelNames = [...(options.labelNames ?? [])];
    const existing = this.registry.getSingleMetric(fullName) as (AnyMetric & { type?: string; labelNames?: string[] }) | undefined;
    if (existing !== undefined) {
      if (existing.type !== kind) {
        throw new Error(metricConflictMessage(fullName, `as a ${existing.type}, not a ${kind}`));
      }
      const had = [...(existing.labelNames ?? [])].sort();
      const wanted = [...labelNames].sort();
      if (had.join(',') !== wanted.join(',')) {
        throw new Error(
          metricConflictMessage(fullName, `with label names [${had.join(', ')}], not [${wanted.join(', ')}]`),
        );
      }
      return existing as M;
    }
    assertValidNames(fullName, labelNames);
    return create({
      ...options,
      name: fullName,
      help: options.help ?? fullName,
      labelNames,
      registers: [this.registry],
    } as never);
  }
}

/** Throws when a metric or label name breaks Prometheus' rules. */
export function assertValidNames(name: string, labelNames: readonly string[]): void {
  if (!METRIC_NAME_PATTERN.test(name)) throw new Error(invalidMetricNameMessage(name));
  for (const label of labelNames) {
    if (!LABEL_NAME_PATTERN.test(label) || label.startsWith('__')) {
      throw new Error(invalidLabelNameMessage(name, label));
    }
  }
}
