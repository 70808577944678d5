import type { Registry } from 'prom-client';
import { defaultLabelsOf } from '../compat/prom-client.js';
import type { CumulativeBucket } from './histogram-quantile.js';

/** A series' label set, values as strings (default labels included). */
export type SeriesLabels = Readonly<Record<string, string>>;

export interface ValueSeries {
  readonly labels: SeriesLabels;
  readonly value: number;
}

export interface HistogramSeries {
  readonly labels: SeriesLabels;
  readonly count: number;
  readonly sum: number;
  /** Cumulative, sorted by `le`, ending with `le: Infinity`. */
  readonly buckets: readonly CumulativeBucket[];
}

export interface SummarySeries {
  readonly labels: SeriesLabels;
  readonly count: number;
  readonly sum: number;
  /** prom-client's own quantile estimates, as rendered in the scrape. */
  readonly quantiles: ReadonlyArray<{ quantile: number; value: number }>;
}

interface FamilyHead {
  readonly name: string;
  readonly help: string;
}

/** One family of a registry, its samples grouped into series. */
export type FamilyReading =
  | (FamilyHead & { type: 'counter' | 'gauge'; series: ValueSeries[] })
  | (FamilyHead & { type: 'histogram'; series: HistogramSeries[] })
  | (FamilyHead & { type: 'summary'; series: SummarySeries[] });

interface JsonValue {
  value: number;
  labels: Record<string, string | number>;
  metricName?: string;
}

interface JsonFamily {
  name: string;
  help: string;
  type: string;
  values?: JsonValue[];
}

/**
 * Every family of `registry`, read through `getMetricsAsJSON()` (the same values the scrape
 * renders, default labels included) and grouped into series: histogram buckets, sum and count of
 * one label set together, summary quantiles likewise. Families of an unknown type are left out.
 */
export async function readRegistry(
  registry: Registry,
): Promise<FamilyReading[]> {
  const families =
    (await registry.getMetricsAsJSON()) as unknown as JsonFamily[];
  const readings: FamilyReading[] = [];
  for (const family of families) {
    const reading = readJsonFamily(family);
    if (reading) readings.push(reading);
  }
  return readings;
}

/** One family of the registry by its full name, or `undefined`. */
export async function readFamily(
  registry: Registry,
  name: string,
): Promise<FamilyReading | undefined> {
  const metric = registry.getSingleMetric(name);
  if (!metric) return undefined;
  const json = (await metric.get()) as unknown as JsonFamily;
  const defaults = defaultLabelsOf(registry) ?? {};
  for (const value of json.values ?? [])
    value.labels = { ...(defaults as Record<string, string>), ...value.labels };
  return readJsonFamily(json);
}

function readJsonFamily(family: JsonFamily): FamilyReading | undefined {
  const values = family.values ?? [];
  const head = { name: family.name, help: family.help };
  switch (family.type) {
    case 'counter':
    case 'gauge':
      return {
        ...head,
        type: family.type,
        series: values.map(({ labels, value }) => ({
          labels: stringLabels(labels),
          value,
        })),
      };
    case 'histogram':
      return { ...head, type: 'histogram', series: histogramSeries(family) };
    case 'summary':
      return { ...head, type: 'summary', series: summarySeries(family) };
    default:
      return undefined;
  }
}

function histogramSeries(family: JsonFamily): HistogramSeries[] {
  const byLabels = new Map<
    string,
    {
      labels: SeriesLabels;
      count: number;
      sum: number;
      buckets: CumulativeBucket[];
    }
  >();
  for (const { labels, value, metricName } of family.values ?? []) {
    const { le, ...own } = labels;
    const series = seriesOf(byLabels, own, () => ({
      count: 0,
      sum: 0,
      buckets: [],
    }));
    if (metricName === `${family.name}_bucket`)
      series.buckets.push({ le: leValue(le), count: value });
    else if (metricName === `${family.name}_sum`) series.sum = value;
    else if (metricName === `${family.name}_count`) series.count = value;
  }
  for (const series of byLabels.values())
    series.buckets.sort((a, b) => a.le - b.le);
  return [...byLabels.values()];
}

function summarySeries(family: JsonFamily): SummarySeries[] {
  const byLabels = new Map<
    string,
    {
      labels: SeriesLabels;
      count: number;
      sum: number;
      quantiles: Array<{ quantile: number; value: number }>;
    }
  >();
  for (const { labels, value, metricName } of family.values ?? []) {
    const { quantile, ...own } = labels;
    const series = seriesOf(byLabels, own, () => ({
      count: 0,
      sum: 0,
      quantiles: [],
    }));
    if (metricName === `${family.name}_sum`) series.sum = value;
    else if (metricName === `${family.name}_count`) series.count = value;
    else if (quantile !== undefined)
      series.quantiles.push({ quantile: Number(quantile), value });
  }
  return [...byLabels.values()];
}

function seriesOf<T extends { labels: SeriesLabels }>(
  byLabels: Map<string, T>,
  labels: Record<string, string | number>,
  create: () => Omit<T, 'labels'>,
): T {
  const own = stringLabels(labels);
  const key = labelKey(own);
  let series = byLabels.get(key);
  if (!series) {
    series = { labels: own, ...create() } as T;
    byLabels.set(key, series);
  }
  return series;
}

/** A stable key of a label set, independent of the order its names were given in. */
export function labelKey(labels: SeriesLabels): string {
  return JSON.stringify(
    Object.keys(labels)
      .sort()
      .map((name) => [name, labels[name]]),
  );
}

function stringLabels(labels: Record<string, string | number>): SeriesLabels {
  const own: Record<string, string> = {};
  for (const [name, value] of Object.entries(labels)) own[name] = String(value);
  return own;
}

function leValue(le: string | number | undefined): number {
  if (le === '+Inf' || le === undefined) return Infinity;
  return Number(le);
}
