import { METRICS_PATH_PATTERN } from '../metrics.constants.js';
import { PATH_RULE } from '../metrics.messages.js';
import { invalid, resolveObject } from '../options/option-checks.js';
import { resolvePath } from '../scrape/metrics-path.options.js';

/** The sliding window of `summary()` when `summary.windowSeconds` is not given: 5 minutes. */
export const DEFAULT_SUMMARY_WINDOW_SECONDS = 300;
/** The longest `summary.windowSeconds` accepted: one day. */
export const MAX_SUMMARY_WINDOW_SECONDS = 86_400;

/** The `summary` option: where the JSON summary is served and the window of its rates and percentiles. */
export interface MetricsSummaryOptions {
  /** Path of the JSON summary (`?full=1`: the snapshot). Default `<path>/summary`. */
  path?: string;
  /** Seconds of the sliding window of rates, error ratio and window percentiles, 1 to 86400. Default 300. */
  windowSeconds?: number;
}

/** The `summary` option once checked; `undefined` when it is `false`. */
export interface ResolvedSummaryOptions {
  readonly path: string;
  readonly windowSeconds: number;
}

const KNOWN = new Set(['path', 'windowSeconds']);

/**
 * Checks the `summary` option: `false` (no summary path, no snapshot timer) or
 * `{ path?, windowSeconds? }`. The default path is the metrics `path` followed by `/summary`.
 */
export function resolveSummary(
  value: unknown,
  all: Readonly<Record<string, unknown>>,
): ResolvedSummaryOptions | undefined {
  if (value === false) return undefined;
  const given =
    value === undefined
      ? {}
      : resolveObject(
          value,
          'summary',
          KNOWN,
          'false or an object { path?, windowSeconds? }',
        );
  const metricsPath = resolvePath(all.path);
  const path =
    given.path === undefined
      ? `${metricsPath === '/' ? '' : metricsPath}/summary`
      : checkPath(given.path);
  if (path === metricsPath)
    throw invalid(
      'summary.path',
      `a path other than the metrics path ${metricsPath}`,
      given.path,
    );
  const windowSeconds = given.windowSeconds ?? DEFAULT_SUMMARY_WINDOW_SECONDS;
  if (
    typeof windowSeconds !== 'number' ||
    !Number.isFinite(windowSeconds) ||
    windowSeconds < 1 ||
    windowSeconds > MAX_SUMMARY_WINDOW_SECONDS
  ) {
    throw invalid(
      'summary.windowSeconds',
      `a number of seconds from 1 to ${MAX_SUMMARY_WINDOW_SECONDS}`,
      windowSeconds,
    );
  }
  return { path, windowSeconds };
}

function checkPath(path: unknown): string {
  if (typeof path !== 'string' || !METRICS_PATH_PATTERN.test(path))
    throw invalid('summary.path', PATH_RULE, path);
  return path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path;
}

/**
 * `excludePaths` with the summary path added when the app's own server serves it (no `port`),
 * so that reading the summary is not measured, as scrapes of the metrics path are not.
 */
export function withSummaryPath(
  excluded: ReadonlySet<string>,
  all: Readonly<Record<string, unknown>>,
): ReadonlySet<string> {
  if (all.enabled === false || all.port !== undefined) return excluded;
  const summary = resolveSummary(all.summary, all);
  if (summary === undefined || excluded.has(summary.path)) return excluded;
  return new Set([...excluded, summary.path]);
}
