import type {
  HistogramSeries,
  PromClientExemplar,
  PromClientFamily,
  ValueSeries,
} from '../compat/prom-client.js';
import { escapeLabelValue, labelPairs, sampleValue } from './sample-text.js';

/** Sample lines per run a scrape writes before it may yield to the event loop. */
const LINES_PER_RUN = 2048;

/** What the scrape formats once for every family it writes. */
export interface DefaultLabelsText {
  /** The registry's default labels (valid names), or `null` when it has none. */
  readonly labels: Readonly<Record<string, unknown>> | null;
  readonly names: readonly string[];
  /** All of them as `name="value"` pairs, in prom-client's order. */
  readonly pairs: string;
  /** All but `le` (a histogram bucket's own `le` comes first and wins). */
  readonly pairsWithoutLe: string;
}

/** The default labels of a scrape, formatted once for all its families. */
export function defaultLabelsText(
  labels: Readonly<Record<string, unknown>>,
): DefaultLabelsText {
  const names = Object.keys(labels);
  return {
    labels: names.length > 0 ? labels : null,
    names,
    pairs: labelPairs(labels),
    pairsWithoutLe: labelPairs(labels, ['le']),
  };
}

/**
 * A histogram series' label text, per label object, cached for good: prom-client formats a
 * histogram's series labels once per object too (its `sharedLabels` cache in lib/registry.js), so
 * both show the labels as they were when first written.
 */
const histogramLabelText = new WeakMap<object, string>();

function sharedLabelText(labels: Readonly<Record<string, unknown>>): string {
  let text = histogramLabelText.get(labels);
  if (text === undefined) {
    text = labelPairs(labels);
    histogramLabelText.set(labels, text);
  }
  return text;
}

/** The label text of a counter's or gauge's series and the entries it was made from. */
interface ValueLabelText {
  readonly text: string;
  readonly names: readonly string[];
  readonly values: readonly unknown[];
}

/**
 * A counter's or gauge's series label text, per label object. prom-client formats these labels
 * afresh at every scrape, and keeps the caller's object, which the caller may change later: a
 * cached text is used only while the object still holds the same entries, in the same order.
 */
const valueLabelText = new WeakMap<object, ValueLabelText>();

function ownLabelText(labels: Readonly<Record<string, unknown>>): string {
  const cached = valueLabelText.get(labels);
  if (cached !== undefined && holds(labels, cached)) return cached.text;
  const names = Object.keys(labels);
  const made: ValueLabelText = {
    text: labelPairs(labels),
    names,
    values: names.map((name) => labels[name]),
  };
  valueLabelText.set(labels, made);
  return made.text;
}

function holds(
  labels: Readonly<Record<string, unknown>>,
  cached: ValueLabelText,
): boolean {
  if (Object.isFrozen(labels)) return true;
  const { names, values } = cached;
  let i = 0;
  for (const name in labels) {
    if (
      i === names.length ||
      names[i] !== name ||
      !hasOwnProperty.call(labels, name) ||
      !Object.is(values[i], labels[name])
    )
      return false;
    i++;
  }
  return i === names.length;
}

const { hasOwnProperty } = Object.prototype;

/**
 * The sample lines of a prom-client counter, gauge or histogram, byte for byte as prom-client's
 * `Registry#getMetricsAsString` writes its `get()` values (lib/registry.js): runs of whole lines,
 * each line starting with `\n`, and of whole series. `series` are the family's series as taken
 * right after its `collect` ran (where prom-client's `get()` takes them); the scrape may yield to
 * the event loop between two runs.
 */
export function promClientLines(
  family: PromClientFamily,
  series: readonly (ValueSeries | HistogramSeries)[],
  sampleName: string,
  defaults: DefaultLabelsText,
  openMetrics: boolean,
): Iterable<string> {
  return {
    [Symbol.iterator]: () => {
      const writeRun =
        family.type === 'histogram'
          ? histogramRuns(
              series as readonly HistogramSeries[],
              family.upperBounds,
              sampleName,
              defaults,
              openMetrics,
            )
          : valueRuns(
              series as readonly ValueSeries[],
              sampleName,
              defaults,
              openMetrics,
            );
      const run: string[] = [];
      return {
        next: (): IteratorResult<string> => {
          run.length = 0;
          writeRun(run);
          return run.length === 0
            ? { done: true, value: undefined }
            : { done: false, value: run.join('') };
        },
      };
    },
  };
}

/**
 * Pushes the next run of lines onto `run` (nothing once every series is written). Plain
 * functions rather than generators: V8 keeps these optimised across scrapes.
 */
type WriteRun = (run: string[]) => void;

function valueRuns(
  all: readonly ValueSeries[],
  sampleName: string,
  defaults: DefaultLabelsText,
  openMetrics: boolean,
): WriteRun {
  const head = `\n${sampleName}`;
  // prom-client: `{ ...labels, ...defaultLabels, ...labels }`, so a sample's own label wins.
  const withDefaults = defaults.labels === null ? '} ' : `,${defaults.pairs}} `;
  const onlyDefaults = defaults.labels === null ? ' ' : `{${defaults.pairs}} `;
  let next = 0;
  // Whole lines joined per run: cheaper to encode than one string grown line by line.
  return (run) => {
    const end = Math.min(all.length, next + LINES_PER_RUN);
    for (let i = next; i < end; i++) {
      const series = all[i];
      const { labels } = series;
      let line: string;
      if (overlaps(labels, defaults.names)) {
        line = `\n${exactLine(sampleName, labels, {}, series.value, defaults.labels)}`;
      } else {
        const own = ownLabelText(labels);
        line =
          (own === '' ? head + onlyDefaults : `${head}{${own}${withDefaults}`) +
          valueText(series.value);
      }
      const exemplar = openMetrics ? series.exemplar : undefined;
      run.push(exemplar ? line + exemplarText(exemplar) : line);
    }
    next = end;
  };
}

function histogramRuns(
  all: readonly HistogramSeries[],
  upperBounds: readonly number[],
  name: string,
  defaults: DefaultLabelsText,
  openMetrics: boolean,
): WriteRun {
  // prom-client keys a series' bucket counts (and exemplars) by the bound as a property key.
  const keys = upperBounds.map(String);
  const bucketDefaults =
    defaults.pairsWithoutLe === '' ? '' : `,${defaults.pairsWithoutLe}`;
  const bucketHeads = [...upperBounds, '+Inf'].map(
    (le) => `\n${name}_bucket{le="${escapeLabelValue(le)}"${bucketDefaults}`,
  );
  const infHead = bucketHeads[upperBounds.length];
  const sumHead = `\n${name}_sum`;
  const countHead = `\n${name}_count`;
  const excluded = [...defaults.names, 'le'];
  const seriesPerRun = Math.max(
    1,
    Math.floor(LINES_PER_RUN / (keys.length + 3)),
  );
  let next = 0;
  return (run) => {
    const end = Math.min(all.length, next + seriesPerRun);
    for (let s = next; s < end; s++) {
      const series = all[s];
      const { labels, bucketValues } = series;
      const exemplars = openMetrics ? series.bucketExemplars : undefined;
      if (overlaps(labels, excluded)) {
        run.push(
          exactHistogramLines(series, upperBounds, name, defaults, exemplars),
        );
        continue;
      }
      const own = sharedLabelText(labels);
      const tail = own === '' ? '} ' : `,${own}} `;
      let cumulative = 0;
      for (let i = 0; i < keys.length; i++) {
        cumulative += bucketValues[keys[i]];
        const exemplar = exemplars?.[keys[i]];
        run.push(
          bucketHeads[i] +
            tail +
            (exemplar
              ? valueText(cumulative) + exemplarText(exemplar)
              : valueText(cumulative)),
        );
      }
      const infExemplar = exemplars?.['-1'];
      const count = valueText(series.count);
      const others =
        defaults.pairs === ''
          ? own === ''
            ? ' '
            : `{${own}} `
          : own === ''
            ? `{${defaults.pairs}} `
            : `{${defaults.pairs},${own}} `;
      run.push(
        infHead +
          tail +
          (infExemplar ? count + exemplarText(infExemplar) : count),
        sumHead + others + valueText(series.sum),
        countHead + others + count,
      );
    }
    next = end;
  };
}

/**
 * Whether the label object may have one of `names` (a default label or `le`) of its own. `in`
 * also sees inherited names (`constructor`): those series are written by prom-client's steps,
 * which are exact for every case, only slower.
 */
function overlaps(labels: object, names: readonly string[]): boolean {
  for (let i = 0; i < names.length; i++) if (names[i] in labels) return true;
  return false;
}

/** A histogram series whose own labels shadow a default label or `le`: prom-client's steps. */
function exactHistogramLines(
  series: HistogramSeries,
  upperBounds: readonly number[],
  name: string,
  defaults: DefaultLabelsText,
  exemplars: HistogramSeries['bucketExemplars'],
): string {
  let text = '';
  let cumulative = 0;
  for (const bound of upperBounds) {
    cumulative += series.bucketValues[bound];
    text += `\n${exactLine(`${name}_bucket`, { le: bound }, series.labels, cumulative, defaults.labels, exemplars?.[bound])}`;
  }
  text += `\n${exactLine(`${name}_bucket`, { le: '+Inf' }, series.labels, series.count, defaults.labels, exemplars?.['-1'])}`;
  text += `\n${exactLine(`${name}_sum`, {}, series.labels, series.sum, defaults.labels)}`;
  text += `\n${exactLine(`${name}_count`, {}, series.labels, series.count, defaults.labels)}`;
  return text;
}

/** One line, step by step as prom-client's `getMetricsAsString` makes it (exemplar included). */
function exactLine(
  metricName: string,
  ownLabels: Readonly<Record<string, unknown>>,
  sharedLabels: Readonly<Record<string, unknown>>,
  value: unknown,
  defaults: Readonly<Record<string, unknown>> | null,
  exemplar?: PromClientExemplar | null,
): string {
  const labels =
    defaults === null ? ownLabels : { ...ownLabels, ...defaults, ...ownLabels };
  const parts: string[] = [];
  for (const [name, labelValue] of Object.entries(labels))
    if (!hasOwnProperty.call(sharedLabels, name))
      parts.push(`${name}="${escapeLabelValue(labelValue)}"`);
  const shared = labelPairs(sharedLabels);
  if (shared !== '') parts.push(shared);
  const line = `${metricName}${parts.length > 0 ? `{${parts.join(',')}}` : ''} ${valueText(value)}`;
  return exemplar ? line + exemplarText(exemplar) : line;
}

/** An OpenMetrics exemplar as prom-client appends it to a sample line. */
function exemplarText(exemplar: PromClientExemplar): string {
  return ` # {${labelPairs(exemplar.labelSet)}} ${valueText(exemplar.value)} ${exemplar.timestamp as string}`;
}

/** prom-client's `getValueAsString`, for whatever an entry holds. */
function valueText(value: unknown): string {
  if (typeof value === 'number') return sampleValue(value);
  // Never finite nor `NaN` for `Number.isFinite` and `Number.isNaN`.
  return (value as number) < 0 ? '-Inf' : '+Inf';
}
