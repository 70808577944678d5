import { Registry } from 'prom-client';
import { PROMETHEUS_TEXT } from './exposition-format.js';
import { PROM_CLIENT_METRICS, renderExposition } from './render-exposition.js';

/**
 * The registry the module creates when it is given none. It is prom-client's `Registry` with one
 * change: `metrics()` in the text format renders through the scrape endpoint's renderer (the same
 * bytes, written faster for the request families and in slices that let the event loop run).
 * With the OpenMetrics content type set on it, `metrics()` is prom-client's own.
 */
export class ExpositionRegistry extends Registry {
  override async metrics(): Promise<string> {
    if (this.contentType !== PROMETHEUS_TEXT.contentType)
      return super.metrics();
    return (await renderExposition(this, PROMETHEUS_TEXT)).text;
  }

  /** prom-client's own `metrics()`, for a scrape that cannot render metric by metric. */
  [PROM_CLIENT_METRICS](): Promise<string> {
    return super.metrics();
  }
}
