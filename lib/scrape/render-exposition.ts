import { Registry } from 'prom-client';
import {
  defaultLabelsOf,
  oneMetricRenderer,
  type HistogramSeries,
  promClientFamilyOf,
  type PromClientFamily,
  type ValueSeries,
} from '../compat/prom-client.js';
import { FamilyView } from '../recorder/family-view.js';
import { EventLoopSlice } from './event-loop-slice.js';
import {
  OPENMETRICS_TEXT,
  PROMETHEUS_TEXT,
  type ExpositionFormat,
} from './exposition-format.js';
import {
  defaultLabelsText,
  promClientLines,
} from './prom-client-text-writer.js';
import { escapeText, labelPairs } from './sample-text.js';

/** A rendered scrape body and the content type it is in. */
export interface RenderedExposition {
  text: string;
  contentType: string;
}

/** A rendered scrape body in pieces (concatenated, they are the body), and its content type. */
export interface RenderedChunks {
  chunks: string[];
  contentType: string;
}

interface MetricSnapshot {
  name: string;
  type: string;
  values?: { metricName?: string }[];
}

interface RenderableMetric {
  name: string;
  type: string;
  get(): Promise<MetricSnapshot> | MetricSnapshot;
  getForPromString?(): Promise<MetricSnapshot> | MetricSnapshot;
}

/**
 * Implemented by a registry whose `metrics()` renders through `renderExposition`: prom-client's
 * own `metrics()`, for when the scrape cannot render metric by metric.
 */
export const PROM_CLIENT_METRICS = Symbol('prom-client metrics()');

interface OwnMetrics {
  [PROM_CLIENT_METRICS](): Promise<string>;
}

const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** Renders the registry in the given format as one string (see `renderExpositionChunks`). */
export async function renderExposition(
  registry: Registry,
  format: ExpositionFormat,
  slice?: EventLoopSlice,
): Promise<RenderedExposition> {
  const { chunks, contentType } = await renderExpositionChunks(
    registry,
    format,
    slice,
  );
  return { text: chunks.join(''), contentType };
}

/**
 * Renders the registry in the given format without touching state another scrape can see, and
 * byte for byte as prom-client renders it (plus the OpenMetrics escaping of `"` in HELP).
 *
 * prom-client makes the format a setting of the registry (`setContentType`), and its
 * OpenMetrics rendering renames every counter in place (`requests_total` becomes `requests`)
 * before reading it. Switching the shared registry per scrape would let a concurrent scrape
 * render in the other format, and the renaming would leak into every later text scrape.
 * Instead prom-client renders each of its metrics through a throwaway object that inherits from
 * the registry (so the default labels are the registry's, read live) and shadows only the
 * format; in OpenMetrics a counter is wrapped in a per-scrape view that takes the rename.
 *
 * The recorder's families (`FamilyView`s with `writeSamples`) are written by the recorder itself,
 * and prom-client's counters, gauges and histograms as prom-client makes them by
 * `prom-client-text-writer.ts` (after their `collect` ran), from label text cached per series,
 * in runs of whole series; between runs the scrape yields to the event loop once it has held it
 * for a few milliseconds. Any other metric (a summary, a class that overrides `get()`) renders
 * through prom-client. The metrics are only read.
 *
 * The internals this leans on are in `compat/prom-client.ts`; without them the scrape stays
 * correct and gets slower (see there).
 */
export async function renderExpositionChunks(
  registry: Registry,
  format: ExpositionFormat,
  slice = new EventLoopSlice(),
): Promise<RenderedChunks> {
  if (typeof registry.getMetricsAsArray !== 'function') {
    // A registry-like object from elsewhere: it renders in its own format.
    return {
      chunks: [await registry.metrics()],
      contentType: registry.contentType ?? PROMETHEUS_TEXT.contentType,
    };
  }
  const renderOne = oneMetricRenderer(registry, format.contentType);
  if (renderOne === undefined) return renderWhole(registry);
  const openMetrics = format === OPENMETRICS_TEXT;
  const metrics = registry.getMetricsAsArray() as unknown as RenderableMetric[];
  const defaultLabels = writableDefaultLabels(registry);
  const written = (metric: RenderableMetric): metric is WrittenFamily =>
    defaultLabels !== undefined &&
    metric instanceof FamilyView &&
    metric.writeSamples !== undefined;

  // prom-client's counters, gauges and histograms as it makes them are written here too.
  const families = metrics.map((metric) =>
    defaultLabels === undefined || written(metric)
      ? undefined
      : promClientFamilyOf(metric),
  );

  // The metrics are read together, as `registry.metrics()` reads them: in registration order,
  // each one's values right after its own `collect`.
  const rendered = await Promise.all(
    metrics.map((metric, i) => {
      if (written(metric)) return undefined;
      const family = families[i];
      // As prom-client's `get()`: the series are taken once the metric's own `collect` ran.
      if (family !== undefined) {
        const collected = family.collect();
        return collected === undefined
          ? family.series()
          : collected.then(() => family.series());
      }
      return renderOne(openMetrics ? openMetricsView(metric) : metric).then(
        (text) => (openMetrics ? escapeHelpQuotes(text) : text),
      );
    }),
  );

  const separator = openMetrics ? '\n' : '\n\n';
  const defaultsText =
    defaultLabels === undefined ? undefined : defaultLabelsText(defaultLabels);
  const chunks: string[] = [];
  for (let i = 0; i < metrics.length; i++) {
    if (i > 0) chunks.push(separator);
    const metric = metrics[i];
    const text = rendered[i];
    if (typeof text === 'string') {
      chunks.push(text);
      continue;
    }
    const isCounter = openMetrics && metric.type === 'counter';
    const familyName = escapeText(
      isCounter ? withoutTotal(metric.name) : metric.name,
    );
    const sampleName = isCounter ? `${familyName}_total` : familyName;
    const family = families[i];
    chunks.push(
      header(familyName, family ?? (metric as WrittenFamily), openMetrics),
    );
    const runs =
      family !== undefined
        ? promClientLines(
            family,
            text as readonly (ValueSeries | HistogramSeries)[],
            sampleName,
            defaultsText!,
            openMetrics,
          )
        : (metric as WrittenFamily).writeSamples({
            sampleName,
            defaultLabelPairs: (excluded) =>
              labelPairs(defaultLabels!, excluded),
            openMetrics,
          });
    for (const run of runs) {
      chunks.push(run);
      if (slice.due) await slice.giveWay();
    }
  }
  chunks.push(openMetrics ? '\n# EOF\n' : '\n');
  return { chunks, contentType: format.contentType };
}

/** A family's HELP and TYPE lines (OpenMetrics escapes `"` in HELP, prom-client does not). */
function header(
  familyName: string,
  family: Pick<PromClientFamily, 'help' | 'type'>,
  openMetrics: boolean,
): string {
  const help = escapeText(family.help);
  return `# HELP ${familyName} ${openMetrics ? help.replace(/"/g, '\\"') : help}\n# TYPE ${familyName} ${family.type}`;
}

type WrittenFamily = FamilyView &
  RenderableMetric &
  Required<Pick<FamilyView, 'writeSamples'>>;

/**
 * Without prom-client's one-metric renderer: the registry's own `metrics()`, whole, in the
 * registry's format (correct, but slower, without yielding, and not negotiated).
 */
async function renderWhole(registry: Registry): Promise<RenderedChunks> {
  const own = registry as Registry & Partial<OwnMetrics>;
  const text =
    typeof own[PROM_CLIENT_METRICS] === 'function'
      ? await own[PROM_CLIENT_METRICS]()
      : await registry.metrics();
  return {
    chunks: [text],
    contentType: registry.contentType ?? Registry.PROMETHEUS_CONTENT_TYPE,
  };
}

/**
 * The registry's default labels when the recorder can write them as prom-client would: a plain
 * object of valid label names. Anything else, and every family renders through prom-client.
 */
function writableDefaultLabels(
  registry: Registry,
): Readonly<Record<string, unknown>> | undefined {
  const labels = defaultLabelsOf(registry);
  if (labels === undefined) return undefined;
  return Object.keys(labels).every((name) => LABEL_NAME.test(name))
    ? labels
    : undefined;
}

/**
 * OpenMetrics escapes `"` in HELP text (the text format does not); prom-client escapes only
 * `\` and newlines. Every `"` left on a HELP line is a raw one, so escaping them all is exact.
 */
function escapeHelpQuotes(text: string): string {
  return text.replace(/^# HELP [^\n]*"[^\n]*$/gm, (line) =>
    line.replace(/"/g, '\\"'),
  );
}

/** An OpenMetrics counter family is named without `_total`; its samples carry it. */
function openMetricsView(metric: RenderableMetric): RenderableMetric {
  if (metric.type !== 'counter') return metric;
  return {
    name: withoutTotal(metric.name),
    type: metric.type,
    get: () => metric.get(),
    getForPromString: async () => {
      const snapshot =
        typeof metric.getForPromString === 'function'
          ? await metric.getForPromString()
          : await metric.get();
      return {
        ...snapshot,
        name: withoutTotal(snapshot.name),
        values: snapshot.values?.map((value) =>
          value.metricName === undefined
            ? value
            : { ...value, metricName: withoutTotal(value.metricName) },
        ),
      };
    },
  };
}

function withoutTotal(name: string): string {
  return name.endsWith('_total') ? name.slice(0, -'_total'.length) : name;
}
