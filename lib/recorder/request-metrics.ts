import type { Registry } from 'prom-client';
import { DEFAULT_MAX_SERIES } from '../metrics.constants.js';
import type { TraceExemplars } from '../exemplars/trace-exemplars.js';
import {
  limitedFamilies,
  registerRequestFamilies,
} from './request-families.js';
import { SeriesStore, type TransportBuckets } from './series-store.js';

export { RouteSeries } from './series-store.js';
export { REQUEST_FAMILY_NAMES } from './request-families.js';

/**
 * The one recorder of the request families shared by every transport: a `SeriesStore` (the hot
 * path touches plain numbers in series resolved once per route and status) whose families are
 * described in `request-families.ts` and registered with `register()`.
 */
export class RequestMetrics extends SeriesStore {
  /** Reads the active span for exemplars; set at start-up when `exemplars` is on. */
  exemplars: TraceExemplars | undefined = undefined;

  constructor(
    private readonly prefix: string,
    bounds: readonly number[] | TransportBuckets,
    maxSeries = DEFAULT_MAX_SERIES,
  ) {
    super(bounds, maxSeries, limitedFamilies(prefix));
  }

  /** Creates the families in `registry`. */
  register(registry: Registry): void {
    registerRequestFamilies(registry, this.prefix, this);
  }
}
