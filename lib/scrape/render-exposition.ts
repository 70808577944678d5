import type { Registry } from 'prom-client';
import {
  OPENMETRICS_TEXT,
  PROMETHEUS_TEXT,
  type ExpositionFormat,
} from './exposition-format.js';

/** A rendered scrape body and the content type it is in. */
export interface RenderedExposition {
  text: string;
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
 * Renders the registry in the given format without touching state another scrape can see.
 *
 * prom-client makes the format a setting of the registry (`setContentType`), and its
 * OpenMetrics rendering renames every counter in place (`requests_total` becomes `requests`)
 * before reading it. Switching the shared registry per scrape would let a concurrent scrape
 * render in the other format, and the renaming would leak into every later text scrape.
 * Instead each scrape renders through a throwaway object that inherits from the registry
 * (so the metrics, their order and the default labels are the registry's, read live) and
 * shadows only the format and the list of metrics; in OpenMetrics each metric is wrapped in a
 * per-scrape view that takes the rename and strips `_total` from the family name it
 * reports. The metrics themselves are only read.
 */
export async function renderExposition(
  registry: Registry,
  format: ExpositionFormat,
): Promise<RenderedExposition> {
  if (typeof registry.getMetricsAsArray !== 'function') {
    // A registry-like object from elsewhere: it renders in its own format.
    return {
      text: await registry.metrics(),
      contentType: registry.contentType ?? PROMETHEUS_TEXT.contentType,
    };
  }
  const metrics = registry.getMetricsAsArray() as unknown as RenderableMetric[];
  const scrape = Object.create(registry, {
    contentType: { value: format.contentType },
    getMetricsAsArray: {
      value:
        format === OPENMETRICS_TEXT
          ? () => metrics.map(openMetricsView)
          : () => metrics,
    },
  }) as Registry;
  const text = await scrape.metrics();
  return {
    text: format === OPENMETRICS_TEXT ? escapeHelpQuotes(text) : text,
    contentType: format.contentType,
  };
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
