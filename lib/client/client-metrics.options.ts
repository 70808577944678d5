import { resolveBoolean } from '../options/option-checks.js';

/** `clientMetrics`: measure the app's outbound HTTP calls. Default `false`. */
export function resolveClientMetrics(value: unknown): boolean {
  return resolveBoolean(value, 'clientMetrics', false);
}
