import type { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { defaultLabelsOf } from '../compat/prom-client.js';
import { histogramQuantile } from '../read/histogram-quantile.js';
import { readFamily, type SeriesLabels } from '../read/registry-reading.js';
import type { SeriesStore } from '../recorder/series-store.js';
import {
  METHOD_OF_KIND,
  metricNameOf,
  type CollectorKind,
} from './collector-names.js';
import {
  decrementCounterMessage,
  disabledReadMessage,
  invalidValueMessage,
  kindConflictMessage,
  labelNamesMessage,
  unknownMetricMessage,
  unknownSeriesMessage,
  unreadableKindMessage,
} from './collector.messages.js';
import { GaugeStats, type CollectorLabels } from './gauge-stats.js';
import { zeroRegistry } from './registry-reset.js';

export type { CollectorLabels } from './gauge-stats.js';

/** `get()` of a counter. */
export interface CounterReading {
  readonly type: 'counter';
  readonly value: number;
}

/**
 * `get()` of a gauge: `current` is its value now; `min`, `max` and `mean` (of the values it took,
 * one per call, since the last reset) are there for gauges the collector's `gauge()` made.
 */
export interface GaugeReading {
  readonly type: 'gauge';
  readonly current: number;
  readonly min?: number;
  readonly max?: number;
  readonly mean?: number;
}

/**
 * `get()` of a timing or any histogram, over its lifetime (since the last reset): the percentiles
 * are estimated from the buckets as Prometheus' `histogram_quantile` does; `NaN` before the
 * first observation.
 */
export interface HistogramReading {
  readonly type: 'histogram';
  readonly count: number;
  readonly sum: number;
  readonly mean: number;
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
}

export type MetricReading = CounterReading | GaugeReading | HistogramReading;

/** What the collector needs of `MetricsService`: its get-or-create getters and its registry. */
export interface CollectorHost {
  readonly registry: Registry;
  readonly prefix: string;
  readonly maxSeries: number;
  readonly enabled: boolean;
  /** The request families' store, zeroed by `reset()`. */
  readonly requests: SeriesStore | undefined;
  counter(name: string, labelNames: string[]): Counter<string>;
  gauge(name: string, labelNames: string[]): Gauge<string>;
  histogram(name: string, labelNames: string[]): Histogram<string>;
}

/** One collector name: its kind, its metric, the label names of its first call. */
interface Entry {
  readonly name: string;
  readonly kind: CollectorKind;
  readonly fullName: string;
  readonly labelNames: readonly string[];
  /** `undefined` with `enabled: false`: the name is checked, nothing is recorded. */
  readonly counter?: Counter<string>;
  readonly gauge?: Gauge<string>;
  readonly histogram?: Histogram<string>;
  readonly stats?: GaugeStats;
}

/**
 * The collector API of `MetricsService`: one line records a custom metric by a dotted name,
 * created at its first call (see `collector-names.ts` for the name rule). With `enabled: false`
 * each call checks its name once and returns.
 */
export class MetricsCollector {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly host: CollectorHost) {}

  timing(name: string, seconds: number, labels?: CollectorLabels): void {
    const entry = this.entry(name, 'timing', labels);
    if (entry.histogram === undefined) return;
    if (typeof seconds !== 'number' || !(seconds >= 0) || seconds === Infinity)
      throw new TypeError(
        invalidValueMessage(
          'timing',
          name,
          'seconds must be a finite number ≥ 0',
          seconds,
        ),
      );
    this.checkLabels(entry, labels);
    if (labels === undefined) entry.histogram.observe(seconds);
    else entry.histogram.observe(labels, seconds);
  }

  timer(name: string, labels?: CollectorLabels): () => number {
    const entry = this.entry(name, 'timing', labels);
    if (entry.histogram !== undefined) this.checkLabels(entry, labels);
    const startedAt = performance.now();
    let seconds: number | undefined;
    return () => {
      if (seconds !== undefined) return seconds;
      seconds = (performance.now() - startedAt) / 1000;
      if (labels === undefined) entry.histogram?.observe(seconds);
      else entry.histogram?.observe(labels, seconds);
      return seconds;
    };
  }

  increment(name: string, amount = 1, labels?: CollectorLabels): void {
    const known = this.entries.get(name);
    const entry =
      known?.kind === 'gauge' ? known : this.entry(name, 'counter', labels);
    if (entry.counter === undefined && entry.gauge === undefined) return;
    checkAmount('increment', name, amount);
    this.checkLabels(entry, labels);
    if (entry.gauge !== undefined) {
      moveGauge(entry, labels, amount);
      return;
    }
    if (amount < 0)
      throw new Error(decrementCounterMessage(name, entry.fullName));
    if (labels === undefined) entry.counter!.inc(amount);
    else entry.counter!.inc(labels, amount);
  }

  decrement(name: string, amount = 1, labels?: CollectorLabels): void {
    const entry = this.entries.get(name);
    if (entry?.kind !== 'gauge') {
      // Only a gauge goes down: neither a counter nor a name not yet made a gauge.
      const fullName =
        entry?.fullName ??
        `${this.host.prefix}${metricNameOf(name, 'counter')}`;
      if (entry !== undefined && entry.kind !== 'counter')
        throw new Error(
          kindConflictMessage(name, kindWord(entry.kind), 'decrement()'),
        );
      throw new Error(decrementCounterMessage(name, fullName));
    }
    if (entry.gauge === undefined) return;
    checkAmount('decrement', name, amount);
    this.checkLabels(entry, labels);
    moveGauge(entry, labels, -amount);
  }

  gauge(name: string, value: number, labels?: CollectorLabels): void {
    const entry = this.entry(name, 'gauge', labels);
    if (entry.gauge === undefined) return;
    if (typeof value !== 'number' || !Number.isFinite(value))
      throw new TypeError(
        invalidValueMessage(
          'gauge',
          name,
          'the value must be a finite number',
          value,
        ),
      );
    this.checkLabels(entry, labels);
    if (labels === undefined) entry.gauge.set(value);
    else entry.gauge.set(labels, value);
    entry.stats!.set(labels, value);
  }

  /**
   * One series: by a collector name (`event.processing`), a name as given to
   * `counter()`/`gauge()`/`histogram()` (the `prefix` is added), or a family's full name as the
   * scrape shows it. `labels` are the series' own labels, all of them (default labels aside).
   * Rejects, naming what exists, when there is no such metric or series.
   */
  async get(
    name: string,
    labels: CollectorLabels = {},
  ): Promise<MetricReading> {
    if (!this.host.enabled) throw new Error(disabledReadMessage(name));
    const fullName = this.fullNameOf(name);
    const family =
      fullName === undefined
        ? undefined
        : await readFamily(this.host.registry, fullName);
    if (family === undefined)
      throw new Error(unknownMetricMessage(name, this.knownNames()));
    if (family.type === 'summary')
      throw new Error(unreadableKindMessage(name, family.type));
    const defaults = (defaultLabelsOf(this.host.registry) ?? {}) as Readonly<
      Record<string, unknown>
    >;
    const wanted = stringLabels(labels);
    const matches = (own: SeriesLabels) => sameSeries(own, wanted, defaults);
    if (family.type === 'histogram') {
      const series = family.series.find((s) => matches(s.labels));
      if (series === undefined)
        throw this.noSeries(name, wanted, family.series, defaults);
      const { count, sum, buckets } = series;
      return {
        type: 'histogram',
        count,
        sum,
        mean: count === 0 ? NaN : sum / count,
        p50: histogramQuantile(0.5, buckets),
        p95: histogramQuantile(0.95, buckets),
        p99: histogramQuantile(0.99, buckets),
      };
    }
    const series = family.series.find((s) => matches(s.labels));
    if (series === undefined)
      throw this.noSeries(name, wanted, family.series, defaults);
    if (family.type === 'counter')
      return { type: 'counter', value: series.value };
    const entry = this.entries.get(name);
    const stats =
      entry?.kind === 'gauge' ? entry.stats?.get(labels) : undefined;
    if (stats === undefined) return { type: 'gauge', current: series.value };
    return {
      type: 'gauge',
      current: series.value,
      min: stats.min,
      max: stats.max,
      mean: stats.sum / stats.count,
    };
  }

  /** Zeroes every family, label sets kept; gauge statistics start again. */
  async reset(): Promise<void> {
    if (!this.host.enabled) return;
    await zeroRegistry(this.host.registry, this.host.requests, false);
    for (const entry of this.entries.values()) entry.stats?.zero();
  }

  /** Zeroes counters and histograms (what only goes up), label sets kept; gauges keep their values. */
  async resetCounters(): Promise<void> {
    if (!this.host.enabled) return;
    await zeroRegistry(this.host.registry, this.host.requests, true);
  }

  /** The entry of `name`, made at its first call; a name of another kind fails. */
  private entry(
    name: string,
    kind: CollectorKind,
    labels: CollectorLabels | undefined,
  ): Entry {
    const known = this.entries.get(name);
    if (known !== undefined) {
      if (known.kind !== kind)
        throw new Error(
          kindConflictMessage(name, kindWord(known.kind), METHOD_OF_KIND[kind]),
        );
      return known;
    }
    const metricName = metricNameOf(name, kind);
    const labelNames = labels === undefined ? [] : Object.keys(labels);
    const entry: Entry = {
      name,
      kind,
      fullName: `${this.host.prefix}${metricName}`,
      labelNames,
      ...(this.host.enabled ? this.create(kind, metricName, labelNames) : {}),
    };
    this.entries.set(name, entry);
    return entry;
  }

  private create(
    kind: CollectorKind,
    metricName: string,
    labelNames: string[],
  ): Partial<Entry> {
    switch (kind) {
      case 'counter':
        return { counter: this.host.counter(metricName, labelNames) };
      case 'gauge':
        return {
          gauge: this.host.gauge(metricName, labelNames),
          stats: new GaugeStats(labelNames, this.host.maxSeries),
        };
      case 'timing':
        return { histogram: this.host.histogram(metricName, labelNames) };
    }
  }

  private checkLabels(entry: Entry, labels: CollectorLabels | undefined): void {
    const expected = entry.labelNames;
    let given = 0;
    if (labels !== undefined) {
      for (const label in labels) {
        if (!expected.includes(label)) {
          given = -1;
          break;
        }
        given++;
      }
    }
    if (given !== expected.length)
      throw new Error(
        labelNamesMessage(entry.name, expected, Object.keys(labels ?? {})),
      );
  }

  private fullNameOf(name: string): string | undefined {
    const entry = this.entries.get(name);
    if (entry !== undefined) return entry.fullName;
    const { registry, prefix } = this.host;
    if (registry.getSingleMetric(`${prefix}${name}`)) return `${prefix}${name}`;
    if (registry.getSingleMetric(name)) return name;
    return undefined;
  }

  private knownNames(): string[] {
    const collected = [...this.entries.values()].map(
      (entry) => `${entry.name} (${entry.fullName})`,
    );
    const families = this.host.registry
      .getMetricsAsArray()
      .map((metric) => metric.name)
      .filter(
        (name) => ![...this.entries.values()].some((e) => e.fullName === name),
      );
    return [...collected, ...families];
  }

  private noSeries(
    name: string,
    wanted: Readonly<Record<string, string>>,
    series: readonly { labels: SeriesLabels }[],
    defaults: Readonly<Record<string, unknown>>,
  ): Error {
    return new Error(
      unknownSeriesMessage(
        name,
        wanted,
        series.map((s) => JSON.stringify(ownLabels(s.labels, defaults))),
      ),
    );
  }
}

function moveGauge(
  entry: Entry,
  labels: CollectorLabels | undefined,
  delta: number,
): void {
  const gauge = entry.gauge!;
  if (labels === undefined) gauge.inc(delta);
  else gauge.inc(labels, delta);
  entry.stats!.add(labels, delta);
}

function checkAmount(method: string, name: string, amount: number): void {
  if (typeof amount !== 'number' || !Number.isFinite(amount))
    throw new TypeError(
      invalidValueMessage(
        method,
        name,
        'the amount must be a finite number',
        amount,
      ),
    );
}

function kindWord(kind: CollectorKind): string {
  return kind === 'timing' ? 'timing' : kind;
}

function stringLabels(labels: CollectorLabels): Record<string, string> {
  const own: Record<string, string> = {};
  for (const [name, value] of Object.entries(labels)) own[name] = String(value);
  return own;
}

/** A series' labels without the registry's default labels it carries. */
function ownLabels(
  labels: SeriesLabels,
  defaults: Readonly<Record<string, unknown>>,
): Record<string, string> {
  const own: Record<string, string> = {};
  for (const [name, value] of Object.entries(labels))
    if (defaults[name] === undefined || String(defaults[name]) !== value)
      own[name] = value;
  return own;
}

function sameSeries(
  labels: SeriesLabels,
  wanted: Readonly<Record<string, string>>,
  defaults: Readonly<Record<string, unknown>>,
): boolean {
  for (const [name, value] of Object.entries(wanted))
    if (labels[name] !== value) return false;
  for (const [name, value] of Object.entries(labels))
    if (wanted[name] === undefined && String(defaults[name]) !== value)
      return false;
  return true;
}
