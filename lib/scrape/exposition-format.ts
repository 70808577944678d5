import { Registry } from 'prom-client';
import {
  parseWeightedHeader,
  type WeightedElement,
} from './weighted-header.js';

/** A format the endpoint can serve. */
export interface ExpositionFormat {
  readonly name: 'openmetrics' | 'prometheus';
  readonly type: string;
  readonly subtype: string;
  readonly version: string;
  readonly contentType: string;
}

export const PROMETHEUS_TEXT: ExpositionFormat = Object.freeze({
  name: 'prometheus',
  type: 'text',
  subtype: 'plain',
  version: '0.0.4',
  contentType: Registry.PROMETHEUS_CONTENT_TYPE,
});

export const OPENMETRICS_TEXT: ExpositionFormat = Object.freeze({
  name: 'openmetrics',
  type: 'application',
  subtype: 'openmetrics-text',
  version: '1.0.0',
  contentType: Registry.OPENMETRICS_CONTENT_TYPE,
});

/**
 * Picks the format for an `Accept` header: OpenMetrics 1.0.0 when the client weighs it higher
 * than the Prometheus text format 0.0.4, the text format otherwise (no header, `*\/*`, a
 * malformed header, a tie, or nothing acceptable).
 */
export function negotiateFormat(
  accept: string | string[] | undefined,
): ExpositionFormat {
  const ranges = parseWeightedHeader(accept);
  const openMetrics = quality(OPENMETRICS_TEXT, ranges);
  return openMetrics > 0 && openMetrics > quality(PROMETHEUS_TEXT, ranges)
    ? OPENMETRICS_TEXT
    : PROMETHEUS_TEXT;
}

/** The q of the most specific range that matches the format (0 when none does). */
function quality(format: ExpositionFormat, ranges: WeightedElement[]): number {
  let bestSpecificity = -1;
  let q = 0;
  for (const range of ranges) {
    const specificity = matchSpecificity(format, range);
    if (specificity < 0) continue;
    if (specificity > bestSpecificity) {
      bestSpecificity = specificity;
      q = range.q;
    } else if (specificity === bestSpecificity && range.q > q) {
      q = range.q;
    }
  }
  return q;
}

/** -1 when the range does not match; otherwise higher is more specific (RFC 9110 §12.5.1). */
function matchSpecificity(
  format: ExpositionFormat,
  range: WeightedElement,
): number {
  const slash = range.value.indexOf('/');
  if (slash <= 0 || slash === range.value.length - 1) return -1;
  const type = range.value.slice(0, slash).trim();
  const subtype = range.value.slice(slash + 1).trim();
  if (type === '*') return subtype === '*' && range.params.size === 0 ? 0 : -1;
  if (type !== format.type) return -1;
  if (subtype === '*') return range.params.size === 0 ? 1 : -1;
  if (subtype !== format.subtype) return -1;
  const version = range.params.get('version');
  if (version !== undefined && version !== format.version) return -1;
  const charset = range.params.get('charset');
  if (charset !== undefined && charset.toLowerCase() !== 'utf-8') return -1;
  // Other parameters (Prometheus 3's `escaping`, for one) are satisfied: every name served
  // is a classic Prometheus name.
  return range.params.size > 0 ? 3 : 2;
}
