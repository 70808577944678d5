import {
  labelKey,
  readFamily,
  readRegistry,
  type FamilyReading,
  type HistogramSeries,
  type SeriesLabels,
  type ValueSeries,
} from '../read/registry-reading.js';
import type { CumulativeBucket } from '../read/histogram-quantile.js';
import { escapeLabelValue, formatValue } from './exposition-text.js';
import { registryOf, type RegistrySource } from './registry-of.js';

/** Labels to select a series by: every one given must match; others may be anything. */
export type LabelSelector = Readonly<Record<string, string | number>>;

/** A histogram series: its count, sum and cumulative buckets (ending with `le: Infinity`). */
export interface HistogramValue {
  readonly count: number;
  readonly sum: number;
  readonly buckets: readonly CumulativeBucket[];
}

/**
 * The value of the one counter or gauge series of `name` whose labels include `labels`.
 * Fails when the family is missing, is not a counter or gauge, or when no series or more than one
 * matches; the message lists the series that do exist for that name.
 */
export async function getMetricValue(
  source: RegistrySource,
  name: string,
  labels: LabelSelector = {},
): Promise<number> {
  const family = await familyOf(source, name);
  if (family.type !== 'counter' && family.type !== 'gauge')
    throw new Error(
      `getMetricValue: "${name}" is a ${family.type}; read it with getHistogram()`,
    );
  return (oneSeries(family, labels, 'getMetricValue') as ValueSeries).value;
}

/** The one histogram series of `name` whose labels include `labels`: count, sum, buckets. */
export async function getHistogram(
  source: RegistrySource,
  name: string,
  labels: LabelSelector = {},
): Promise<HistogramValue> {
  const family = await familyOf(source, name);
  if (family.type !== 'histogram')
    throw new Error(
      `getHistogram: "${name}" is a ${family.type}, not a histogram${family.type === 'summary' ? '' : '; read it with getMetricValue()'}`,
    );
  const { count, sum, buckets } = oneSeries(
    family,
    labels,
    'getHistogram',
  ) as HistogramSeries;
  return { count, sum, buckets };
}

async function familyOf(
  source: RegistrySource,
  name: string,
): Promise<FamilyReading> {
  const registry = registryOf(source);
  const family = await readFamily(registry, name);
  if (family) return family;
  const names = (await readRegistry(registry)).map((known) => known.name);
  throw new Error(
    `No metric named "${name}" in the registry. ${
      names.length === 0
        ? 'The registry has no metric.'
        : `The registry has: ${names.sort().join(', ')}.`
    }`,
  );
}

type AnySeries = FamilyReading['series'][number];

function oneSeries(
  family: FamilyReading,
  labels: LabelSelector,
  caller: string,
): AnySeries {
  const matching = (family.series as AnySeries[]).filter((series) =>
    matches(series.labels, labels),
  );
  if (matching.length === 1) return matching[0]!;
  const wanted = `${family.name}${formatLabels(stringLabels(labels))}`;
  const listed = listSeries(family);
  if (matching.length === 0)
    throw new Error(
      `${caller}: no series ${wanted}. ${
        family.series.length === 0
          ? `"${family.name}" has no series yet.`
          : `The series of "${family.name}" are:\n${listed}`
      }`,
    );
  throw new Error(
    `${caller}: ${matching.length} series match ${wanted}; give the labels that tell them apart. The series of "${family.name}" are:\n${listed}`,
  );
}

/** Every series of a family, one a line, as `name{labels} value` (histograms: count and sum). */
export function listSeries(family: FamilyReading): string {
  return (family.series as AnySeries[])
    .map((series) => {
      const head = `  ${family.name}${formatLabels(series.labels)}`;
      return 'value' in series
        ? `${head} ${formatValue(series.value)}`
        : `${head} count=${series.count} sum=${formatValue(series.sum)}`;
    })
    .join('\n');
}

function matches(labels: SeriesLabels, selector: LabelSelector): boolean {
  return Object.entries(selector).every(
    ([name, value]) => labels[name] === String(value),
  );
}

function stringLabels(labels: LabelSelector): SeriesLabels {
  return Object.fromEntries(
    Object.entries(labels).map(([name, value]) => [name, String(value)]),
  );
}

/** `{a="1",b="2"}` with names sorted, or '' for no label. */
export function formatLabels(labels: SeriesLabels): string {
  const names = Object.keys(labels).sort();
  if (names.length === 0) return '';
  return `{${names.map((name) => `${name}="${escapeLabelValue(labels[name]!)}"`).join(',')}}`;
}

/** How one series changed between `snapshotDelta()` and `changes()`. */
export interface SeriesChange {
  readonly name: string;
  readonly type: 'counter' | 'gauge' | 'histogram' | 'summary';
  readonly labels: SeriesLabels;
  /** Counter or gauge: the value's change. Histogram or summary: the change of the count. */
  readonly delta: number;
  /** Histogram or summary: the change of the sum. */
  readonly sumDelta?: number;
}

/** A point of a test to compare the registry with later. */
export interface MetricsDelta {
  /** Every series whose value (or count or sum) differs from the starting point, sorted. */
  changes(): Promise<SeriesChange[]>;
  /**
   * The change since the starting point of the one series of `name` whose labels include
   * `labels` (0 when it did not change; a series new since then counts from 0).
   */
  delta(name: string, labels?: LabelSelector): Promise<number>;
}

interface Point {
  readonly name: string;
  readonly type: SeriesChange['type'];
  readonly labels: SeriesLabels;
  readonly value: number;
  readonly sum: number;
}

async function pointsOf(source: RegistrySource): Promise<Map<string, Point>> {
  const points = new Map<string, Point>();
  for (const family of await readRegistry(registryOf(source)))
    for (const series of family.series)
      points.set(`${family.name}${labelKey(series.labels)}`, {
        name: family.name,
        type: family.type,
        labels: series.labels,
        value: 'value' in series ? series.value : series.count,
        sum: 'value' in series ? 0 : series.sum,
      });
  return points;
}

/**
 * Reads every series of the registry now; `changes()` and `delta()` later say what changed since:
 * the requests a test made, without knowing what earlier tests left in the registry.
 */
export async function snapshotDelta(
  source: RegistrySource,
): Promise<MetricsDelta> {
  const before = await pointsOf(source);
  const changes = async (): Promise<SeriesChange[]> => {
    const found: SeriesChange[] = [];
    for (const [key, after] of await pointsOf(source)) {
      const start = before.get(key);
      const delta = after.value - (start?.value ?? 0);
      const sumDelta = after.sum - (start?.sum ?? 0);
      if (delta === 0 && sumDelta === 0) continue;
      found.push({
        name: after.name,
        type: after.type,
        labels: after.labels,
        delta,
        ...(after.type === 'histogram' || after.type === 'summary'
          ? { sumDelta }
          : {}),
      });
    }
    return found.sort((a, b) =>
      a.name === b.name
        ? labelKey(a.labels).localeCompare(labelKey(b.labels))
        : a.name.localeCompare(b.name),
    );
  };
  return {
    changes,
    async delta(name, labels = {}) {
      const family = await familyOf(source, name);
      const series = oneSeries(family, labels, 'delta');
      const start = before.get(`${name}${labelKey(series.labels)}`);
      const now = 'value' in series ? series.value : series.count;
      return now - (start?.value ?? 0);
    },
  };
}
