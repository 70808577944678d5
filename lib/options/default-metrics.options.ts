import { RESERVED_LABELS } from '../metrics.constants.js';
import { resolveBuckets } from '../recorder/buckets.options.js';
import { resolvePrefix } from '../registry.options.js';
import { invalid, isLabelName, resolveObject } from './option-checks.js';

/**
 * prom-client's `collectDefaultMetrics` settings the `defaultMetrics` option accepts; `register`
 * is always the module's registry.
 */
export interface DefaultMetricsOptions {
  /** Prepended to the names of the `process_*` and `nodejs_*` metrics. Default none. */
  prefix?: string;
  /** Resolution of the event loop delay monitor, in milliseconds. prom-client's default: 10. */
  eventLoopMonitoringPrecision?: number;
  /** Buckets of `nodejs_gc_duration_seconds`, in seconds. prom-client's default: 1 ms to 5 s. */
  gcDurationBuckets?: number[];
  /** Labels added to every default metric series (beside `defaultLabels`). */
  labels?: Record<string, string>;
}

/** The `defaultMetrics` option after checks: `false`, or the settings handed to prom-client. */
export type ResolvedDefaultMetrics =
  | false
  | Readonly<{
      prefix: string;
      eventLoopMonitoringPrecision?: number;
      gcDurationBuckets?: readonly number[];
      labels?: Readonly<Record<string, string>>;
    }>;

const KEYS: ReadonlySet<string> = new Set([
  'prefix',
  'eventLoopMonitoringPrecision',
  'gcDurationBuckets',
  'labels',
]);

const EXPECTED =
  'true, false or an object of prom-client default metrics settings { prefix, eventLoopMonitoringPrecision, gcDurationBuckets, labels }';

/** Checks the `defaultMetrics` option: `true` (the default), `false` or prom-client's settings. */
export function resolveDefaultMetrics(value: unknown): ResolvedDefaultMetrics {
  if (value === undefined || value === true)
    return Object.freeze({ prefix: '' });
  if (value === false) return false;
  if (value !== null && typeof value === 'object' && 'register' in value) {
    throw invalid(
      'defaultMetrics.register',
      'left out (the default metrics go to the module\'s registry; give the "registry" option to choose it)',
      'a value',
    );
  }
  const given = resolveObject(value, 'defaultMetrics', KEYS, EXPECTED);
  const settings: {
    prefix: string;
    eventLoopMonitoringPrecision?: number;
    gcDurationBuckets?: readonly number[];
    labels?: Readonly<Record<string, string>>;
  } = { prefix: resolvePrefix(given.prefix, 'defaultMetrics.prefix') };
  const precision = given.eventLoopMonitoringPrecision;
  if (precision !== undefined) {
    if (!Number.isInteger(precision) || (precision as number) < 1) {
      throw invalid(
        'defaultMetrics.eventLoopMonitoringPrecision',
        'a whole number of milliseconds, 1 or more',
        precision,
      );
    }
    settings.eventLoopMonitoringPrecision = precision as number;
  }
  const buckets = resolveBuckets(
    given.gcDurationBuckets,
    'defaultMetrics.gcDurationBuckets',
  );
  if (buckets !== undefined) settings.gcDurationBuckets = buckets;
  if (given.labels !== undefined) {
    settings.labels = resolveLabels(given.labels);
  }
  return Object.freeze(settings);
}

/** Labels prom-client's default metrics set themselves (`nodejs_gc_duration_seconds{kind}`, ...). */
const DEFAULT_METRICS_LABELS: readonly string[] = [
  'kind',
  'major',
  'minor',
  'patch',
  'space',
  'type',
  'version',
];

function resolveLabels(labels: unknown): Readonly<Record<string, string>> {
  const object = resolveObject(
    labels,
    'defaultMetrics.labels',
    undefined,
    'an object of label names to strings',
  );
  for (const [name, value] of Object.entries(object)) {
    if (!isLabelName(name) || RESERVED_LABELS.includes(name)) {
      throw invalid(
        'defaultMetrics.labels',
        `an object of label names to strings (a label name matches [a-zA-Z_][a-zA-Z0-9_]*, does not start with "__" and is not ${RESERVED_LABELS.join(' or ')})`,
        name,
      );
    }
    if (DEFAULT_METRICS_LABELS.includes(name)) {
      throw invalid(
        'defaultMetrics.labels',
        `free of the labels the default metrics set themselves (${DEFAULT_METRICS_LABELS.join(', ')})`,
        name,
      );
    }
    if (typeof value !== 'string') {
      throw invalid(`defaultMetrics.labels.${name}`, 'a string', value);
    }
  }
  return Object.freeze({ ...(object as Record<string, string>) });
}
