import {
  escapeLabelValue,
  labelPairs,
  sampleValue,
} from '../scrape/sample-text.js';
import { exemplarSuffix } from '../exemplars/trace-exemplars.js';
import type { SampleTextContext } from './family-view.js';
import type { SeriesStore, StatusSeries } from './series-store.js';

/** Sample lines per run a scrape writes before it may yield to the event loop. */
const LINES_PER_RUN = 2048;

// The writers take the list of series once, when their family starts rendering, and write each
// series whole between two yields: a series created during a scrape is in a family or not.
// They write what prom-client writes for the same `get()` values, byte for byte.

/**
 * The lines of a counter of the status series (`labels`: the family's label names); in
 * OpenMetrics, with `exemplars`, each line ends with the series' last exemplar if it has one.
 */
export function* counterLines(
  store: SeriesStore,
  context: SampleTextContext,
  labels: readonly string[],
  pick: (series: StatusSeries) => number,
  exemplars = false,
): Generator<string> {
  const all = store.allStatuses();
  const withExemplars = exemplars && context.openMetrics === true;
  const head = `\n${context.sampleName}{`;
  const defaults = context.defaultLabelPairs(labels);
  const tail = defaults === '' ? '} ' : `,${defaults}} `;
  const run: string[] = [];
  for (let i = 0; i < all.length; i++) {
    const series = all[i];
    series.labelText ??= labelPairs(series.labels);
    const line = head + series.labelText + tail + sampleValue(pick(series));
    const exemplar = withExemplars ? series.exemplars?.count : undefined;
    run.push(exemplar === undefined ? line : line + exemplarSuffix(exemplar));
    if ((i + 1) % LINES_PER_RUN === 0) {
      yield run.join('');
      run.length = 0;
    }
  }
  if (run.length > 0) yield run.join('');
}

/**
 * prom-client's histogram lines: `le` first, then default labels, then the shared labels; in
 * OpenMetrics a bucket line ends with the last exemplar of its bucket, if any.
 */
export function* histogramLines(
  store: SeriesStore,
  context: SampleTextContext,
  labels: readonly string[],
): Generator<string> {
  const all = store.allStatuses();
  const withExemplars = context.openMetrics === true;
  const name = context.sampleName;
  const bucketDefaults = context.defaultLabelPairs([...labels, 'le']);
  const defaults = context.defaultLabelPairs(labels);
  // Transports may have bucket lists of their own: the heads are written once per list.
  const headsOf = new Map<readonly number[], string[]>();
  const bucketHeadsOf = (bounds: readonly number[]): string[] => {
    let heads = headsOf.get(bounds);
    if (heads === undefined) {
      heads = [...bounds, '+Inf'].map(
        (le) =>
          `\n${name}_bucket{le="${escapeLabelValue(le)}",${bucketDefaults === '' ? '' : `${bucketDefaults},`}`,
      );
      headsOf.set(bounds, heads);
    }
    return heads;
  };
  const otherDefaults = defaults === '' ? '' : `${defaults},`;
  const sumHead = `\n${name}_sum{${otherDefaults}`;
  const countHead = `\n${name}_count{${otherDefaults}`;
  const run: string[] = [];
  let lines = 0;
  for (const series of all) {
    const bucketHeads = bucketHeadsOf(series.bounds);
    const bucketCount = series.bounds.length;
    series.labelText ??= labelPairs(series.labels);
    const tail = `${series.labelText}} `;
    const exemplars = withExemplars ? series.exemplars?.buckets : undefined;
    let cumulative = 0;
    for (let i = 0; i < bucketCount; i++) {
      cumulative += series.bucketCounts[i];
      const line = bucketHeads[i] + tail + sampleValue(cumulative);
      const exemplar = exemplars?.[i];
      run.push(exemplar === undefined ? line : line + exemplarSuffix(exemplar));
    }
    const count = sampleValue(series.count);
    const infExemplar = exemplars?.[bucketCount];
    run.push(
      bucketHeads[bucketCount] +
        tail +
        count +
        (infExemplar === undefined ? '' : exemplarSuffix(infExemplar)) +
        sumHead +
        tail +
        sampleValue(series.durationSum) +
        countHead +
        tail +
        count,
    );
    lines += bucketCount + 3;
    if (lines >= LINES_PER_RUN) {
      yield run.join('');
      run.length = 0;
      lines = 0;
    }
  }
  if (run.length > 0) yield run.join('');
}

/** The lines of `errors_total`: the route's labels, then `error_type` (the last of `labels`). */
export function* errorLines(
  store: SeriesStore,
  context: SampleTextContext,
  labels: readonly string[],
): Generator<string> {
  const routes = store.allRoutes();
  const head = `\n${context.sampleName}{`;
  const defaults = context.defaultLabelPairs(labels);
  const errorLabel = `,${labels[labels.length - 1]}="`;
  const tail = defaults === '' ? '"} ' : `",${defaults}} `;
  const run: string[] = [];
  let lines = 0;
  for (const route of routes) {
    if (route.errors.size === 0) continue;
    route.labelText ??= labelPairs({
      transport: route.transport,
      method: route.method,
      route: route.route,
    });
    for (const [errorType, count] of route.errors) {
      run.push(
        head +
          route.labelText +
          errorLabel +
          escapeLabelValue(errorType) +
          tail +
          sampleValue(count),
      );
      lines += 1;
    }
    if (lines >= LINES_PER_RUN) {
      yield run.join('');
      run.length = 0;
      lines = 0;
    }
  }
  if (run.length > 0) yield run.join('');
}
