import { PREFIX_MESSAGE } from './collector.messages.js';

/** What the collector methods record: a counter, a gauge, or a timing (a histogram in seconds). */
export type CollectorKind = 'counter' | 'gauge' | 'timing';

/**
 * A collector name: segments of letters, digits and `_` joined by single dots, starting with a
 * letter or `_` (`event.processing`, `cache.hits`, `queue_depth`).
 */
export const COLLECTOR_NAME_PATTERN =
  /^[a-zA-Z_][a-zA-Z0-9_]*(?:\.[a-zA-Z0-9_]+)*$/;

/** The rule, as error messages and the README state it. */
export const COLLECTOR_NAME_RULE =
  'segments of [a-zA-Z0-9_] joined by single dots, starting with a letter or "_"; dots become "_", timings end in "_seconds", counters in "_total", gauges in neither';

const SUFFIX: Readonly<Record<CollectorKind, string>> = {
  counter: '_total',
  gauge: '',
  timing: '_seconds',
};

/** The method each kind is recorded with, for messages. */
export const METHOD_OF_KIND: Readonly<Record<CollectorKind, string>> = {
  counter: 'increment()',
  gauge: 'gauge()',
  timing: 'timing()/timer()',
};

/**
 * The metric name (before the module's `prefix`) of a collector name: dots become `_`, then a
 * timing gets `_seconds` and a counter `_total` unless the name already ends in it. A gauge or a
 * timing whose name ends in `_total` is refused (only counters end in `_total`), as is a name that
 * breaks `COLLECTOR_NAME_PATTERN`.
 */
export function metricNameOf(name: unknown, kind: CollectorKind): string {
  if (typeof name !== 'string' || !COLLECTOR_NAME_PATTERN.test(name)) {
    throw new Error(
      `${PREFIX_MESSAGE} ${JSON.stringify(name)} is not a valid collector name for ${METHOD_OF_KIND[kind]}: expected ${COLLECTOR_NAME_RULE}.`,
    );
  }
  const base = name.replaceAll('.', '_');
  if (kind !== 'counter' && base.endsWith('_total')) {
    throw new Error(
      `${PREFIX_MESSAGE} "${name}" ends in "_total", which only counters do; name a ${kind === 'gauge' ? 'gauge' : 'timing'} without it (${COLLECTOR_NAME_RULE}).`,
    );
  }
  const suffix = SUFFIX[kind];
  return suffix === '' || base.endsWith(suffix) ? base : `${base}${suffix}`;
}
