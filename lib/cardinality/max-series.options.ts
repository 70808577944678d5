import { DEFAULT_MAX_SERIES } from '../metrics.constants.js';
import { invalid } from '../options/option-checks.js';

/** Checks the `maxSeries` option. */
export function resolveMaxSeries(max: unknown): number {
  if (max === undefined) return DEFAULT_MAX_SERIES;
  if (typeof max !== 'number' || !Number.isSafeInteger(max) || max < 1) {
    throw invalid('maxSeries', 'a positive integer', max);
  }
  return max;
}
