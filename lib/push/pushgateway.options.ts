import type { ResolvedPushgatewayOptions } from '../interfaces/pushgateway-options.interface.js';
import {
  invalid,
  isLabelName,
  resolveObject,
  resolveSeconds,
} from '../options/option-checks.js';

const PUSHGATEWAY_KEYS = new Set([
  'url',
  'jobName',
  'groupings',
  'intervalSeconds',
  'timeoutSeconds',
]);

/** Checks the `pushgateway` option and fills in its defaults. */
export function resolvePushgateway(
  pushgateway: unknown,
): ResolvedPushgatewayOptions | undefined {
  if (pushgateway === undefined) return undefined;
  const given = resolveObject(pushgateway, 'pushgateway', PUSHGATEWAY_KEYS);
  let url: URL | undefined;
  try {
    url = typeof given.url === 'string' ? new URL(given.url) : undefined;
  } catch {
    url = undefined;
  }
  if (url === undefined || !['http:', 'https:'].includes(url.protocol)) {
    throw invalid('pushgateway.url', 'an http:// or https:// URL', given.url);
  }
  if (typeof given.jobName !== 'string' || given.jobName === '') {
    throw invalid('pushgateway.jobName', 'a non-empty string', given.jobName);
  }
  return {
    url,
    jobName: given.jobName,
    groupings: resolveGroupings(given.groupings),
    intervalSeconds: resolveSeconds(
      given.intervalSeconds,
      'pushgateway.intervalSeconds',
      15,
    ),
    timeoutSeconds: resolveSeconds(
      given.timeoutSeconds,
      'pushgateway.timeoutSeconds',
      5,
    ),
  };
}

function resolveGroupings(groupings: unknown): Record<string, string> {
  const resolved: Record<string, string> = {};
  if (groupings === undefined) return resolved;
  const entries = resolveObject(groupings, 'pushgateway.groupings', undefined);
  for (const [name, value] of Object.entries(entries)) {
    if (!isLabelName(name) || name === 'job') {
      throw invalid(
        `pushgateway.groupings.${name}`,
        'a valid label name other than "job" ([a-zA-Z_][a-zA-Z0-9_]*)',
        name,
      );
    }
    if (typeof value !== 'string' || value === '') {
      throw invalid(
        `pushgateway.groupings.${name}`,
        'a non-empty string',
        value,
      );
    }
    resolved[name] = value;
  }
  return resolved;
}
