/** Renders the exposition a scrape answers with. The module's registry is the default source. */
export interface MetricsSource {
  metrics(): Promise<string>;
}

/** Injection token of the scrape's `MetricsSource`. */
export const METRICS_SOURCE = 'METRICS:SOURCE';

/** Thrown by a source that cannot answer now; the scrape answers 503 with the message. */
export class MetricsUnavailableError extends Error {
  override readonly name = 'MetricsUnavailableError';
}
