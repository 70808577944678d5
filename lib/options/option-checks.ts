import { LABEL_NAME_PATTERN } from '../metrics.constants.js';
import {
  invalidEnvironmentMessage,
  invalidOptionMessage,
} from '../metrics.messages.js';

/**
 * What a value was given as, for the message that rejects it: an option (`"pushgateway.url"`) or
 * an environment variable (`{ variable: 'METRICS_PORT' }`).
 */
export type SettingName = string | { readonly variable: string };

/** The error that rejects `got` for `name`, naming the option or the variable. */
export function invalid(
  name: SettingName,
  expected: string,
  got: unknown,
): TypeError {
  return new TypeError(
    typeof name === 'string'
      ? invalidOptionMessage(name, expected, got)
      : invalidEnvironmentMessage(name.variable, expected, String(got)),
  );
}

/** A Prometheus label name that is not reserved for internal use (`__…`). */
export function isLabelName(name: string): boolean {
  return LABEL_NAME_PATTERN.test(name) && !name.startsWith('__');
}

export function resolveBoolean(
  value: unknown,
  name: SettingName,
  fallback: boolean,
): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw invalid(name, 'true or false', value);
  return value;
}

/** Checks that `value` is a plain object whose keys are all in `known` (when given). */
export function resolveObject(
  value: unknown,
  option: string,
  known: ReadonlySet<string> | undefined,
  expected = 'an object',
): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw invalid(option, expected, value);
  }
  for (const key of Object.keys(value)) {
    if (known !== undefined && !known.has(key)) {
      throw invalid(
        `${option}.${key}`,
        `one of ${[...known].join(', ')} (unknown option)`,
        key,
      );
    }
  }
  return value as Record<string, unknown>;
}

export function resolveSeconds(
  value: unknown,
  option: string,
  fallback: number,
): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw invalid(option, 'a finite number of seconds above 0', value);
  }
  return value;
}
