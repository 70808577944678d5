import { Registry } from 'prom-client';
import {
  DEFAULT_DURATION_BUCKETS,
  DEFAULT_MAX_SERIES,
  DEFAULT_METRICS_PATH,
  DEFAULT_QUEUE_WAIT_BUCKETS,
  LABEL_NAME_PATTERN,
  METRIC_NAME_PATTERN,
  METRICS_PATH_PATTERN,
} from './metrics.constants.js';
import {
  invalidOptionMessage,
  PATH_RULE,
  PREFIX_RULE,
} from './metrics.messages.js';
import { environmentOptions } from './metrics.environment.js';
import type {
  MetricsModuleOptions,
  ResolvedMetricsOptions,
} from './interfaces/metrics-module-options.interface.js';
import { resolveScrapeAuth } from './scrape/resolve-scrape-auth.js';
import type { ResolvedPushgatewayOptions } from './interfaces/pushgateway-options.interface.js';
import type { ResolvedClusterOptions } from './interfaces/cluster-options.interface.js';

const KNOWN_OPTIONS = new Set<string>([
  'path',
  'prefix',
  'defaultLabels',
  'buckets',
  'defaultMetrics',
  'registry',
  'excludePaths',
  'enabled',
  'maxSeries',
  'auth',
  'pushgateway',
  'cluster',
  'queueWaitBuckets',
  'port',
  'host',
]);

/**
 * Merges the options given in code over those of the environment (`METRICS_*`, read now) over the
 * defaults, and checks every value; throws naming the option or the variable.
 */
export function resolveOptions(
  given: MetricsModuleOptions = {},
): ResolvedMetricsOptions {
  if (given === null || typeof given !== 'object' || Array.isArray(given)) {
    throw new TypeError(invalidOptionMessage('options', 'an object', given));
  }
  for (const key of Object.keys(given)) {
    if (!KNOWN_OPTIONS.has(key)) {
      throw new TypeError(
        invalidOptionMessage(
          key,
          `one of ${[...KNOWN_OPTIONS].join(', ')} (unknown option)`,
          key,
        ),
      );
    }
  }
  const options = { ...environmentOptions(), ...definedOnly(given) };
  if (options.pushgateway !== undefined && options.cluster) {
    // Every worker would PUT its own numbers to the same group, each replacing the last.
    throw new TypeError(
      invalidOptionMessage(
        'pushgateway',
        'left out when "cluster" is on (each worker would replace the others\' numbers on the gateway; give each worker its own `groupings`, e.g. { worker: String(cluster.worker.id) }, and no "cluster")',
        'both options',
      ),
    );
  }
  return {
    path: resolvePath(options.path),
    prefix: resolvePrefix(options.prefix),
    defaultLabels: resolveDefaultLabels(options.defaultLabels),
    buckets:
      resolveBuckets(options.buckets, 'buckets') ?? DEFAULT_DURATION_BUCKETS,
    defaultMetrics: resolveBoolean(
      options.defaultMetrics,
      'defaultMetrics',
      true,
    ),
    registry: resolveRegistry(options.registry),
    excludePaths: resolveExcludePaths(options.excludePaths),
    enabled: resolveBoolean(options.enabled, 'enabled', true),
    maxSeries: resolveMaxSeries(options.maxSeries),
    auth: resolveScrapeAuth(options.auth),
    pushgateway: resolvePushgateway(options.pushgateway),
    cluster: resolveCluster(options.cluster),
    queueWaitBuckets:
      resolveBuckets(options.queueWaitBuckets, 'queueWaitBuckets') ??
      DEFAULT_QUEUE_WAIT_BUCKETS,
    port: resolvePort(options.port),
    host: resolveHost(options.host, options.port),
  };
}

/** The options given a value: `undefined` (e.g. from an unset config key) leaves the environment's. */
function definedOnly(options: MetricsModuleOptions): MetricsModuleOptions {
  return Object.fromEntries(
    Object.entries(options).filter(([, value]) => value !== undefined),
  );
}

function resolveMaxSeries(max: unknown): number {
  if (max === undefined) return DEFAULT_MAX_SERIES;
  if (typeof max !== 'number' || !Number.isSafeInteger(max) || max < 1) {
    throw new TypeError(
      invalidOptionMessage('maxSeries', 'a positive integer', max),
    );
  }
  return max;
}

function resolvePort(port: unknown): number | undefined {
  if (port === undefined) return undefined;
  if (
    typeof port !== 'number' ||
    !Number.isInteger(port) ||
    port < 0 ||
    port > 65535
  ) {
    throw new TypeError(
      invalidOptionMessage(
        'port',
        'an integer from 0 to 65535 (0 picks a free port)',
        port,
      ),
    );
  }
  return port;
}

function resolveHost(host: unknown, port: unknown): string | undefined {
  if (host === undefined) return undefined;
  if (typeof host !== 'string' || host.trim() === '' || /\s/.test(host)) {
    throw new TypeError(
      invalidOptionMessage(
        'host',
        'a host name or IP address without spaces (e.g. "127.0.0.1")',
        host,
      ),
    );
  }
  if (port === undefined) {
    throw new TypeError(
      invalidOptionMessage(
        'host',
        'given together with "port" (it is the interface of the metrics port)',
        host,
      ),
    );
  }
  return host;
}

function resolvePath(path: unknown): string {
  if (path === undefined) return DEFAULT_METRICS_PATH;
  if (typeof path !== 'string' || !METRICS_PATH_PATTERN.test(path)) {
    throw new TypeError(invalidOptionMessage('path', PATH_RULE, path));
  }
  return path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path;
}

function resolvePrefix(prefix: unknown): string {
  if (prefix === undefined || prefix === '') return '';
  if (typeof prefix !== 'string' || !METRIC_NAME_PATTERN.test(prefix)) {
    throw new TypeError(invalidOptionMessage('prefix', PREFIX_RULE, prefix));
  }
  return prefix;
}

function resolveDefaultLabels(labels: unknown): Record<string, string> {
  if (labels === undefined) return {};
  if (labels === null || typeof labels !== 'object' || Array.isArray(labels)) {
    throw new TypeError(
      invalidOptionMessage(
        'defaultLabels',
        'an object of label names to strings',
        labels,
      ),
    );
  }
  const resolved: Record<string, string> = {};
  for (const [name, value] of Object.entries(labels)) {
    if (!LABEL_NAME_PATTERN.test(name) || name.startsWith('__')) {
      throw new TypeError(
        invalidOptionMessage(
          `defaultLabels.${name}`,
          'a valid label name ([a-zA-Z_][a-zA-Z0-9_]*)',
          name,
        ),
      );
    }
    if (typeof value !== 'string') {
      throw new TypeError(
        invalidOptionMessage(`defaultLabels.${name}`, 'a string', value),
      );
    }
    resolved[name] = value;
  }
  return resolved;
}

/** Checks a bucket list: finite, positive, strictly increasing. Returns undefined when not given. */
export function resolveBuckets(
  buckets: unknown,
  option: string,
): readonly number[] | undefined {
  if (buckets === undefined) return undefined;
  const valid =
    Array.isArray(buckets) &&
    buckets.length > 0 &&
    buckets.every(
      (bound, i) =>
        typeof bound === 'number' &&
        Number.isFinite(bound) &&
        bound > 0 &&
        (i === 0 || bound > (buckets[i - 1] as number)),
    );
  if (!valid) {
    throw new TypeError(
      invalidOptionMessage(
        option,
        'a non-empty array of finite, positive, strictly increasing numbers',
        buckets,
      ),
    );
  }
  return Object.freeze([...(buckets as number[])]);
}

function resolveBoolean(
  value: unknown,
  option: string,
  fallback: boolean,
): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') {
    throw new TypeError(invalidOptionMessage(option, 'true or false', value));
  }
  return value;
}

function resolveRegistry(registry: unknown): Registry | undefined {
  if (registry === undefined) return undefined;
  const looksLikeRegistry =
    registry instanceof Registry ||
    (typeof registry === 'object' &&
      registry !== null &&
      typeof (registry as Registry).registerMetric === 'function' &&
      typeof (registry as Registry).metrics === 'function');
  if (!looksLikeRegistry) {
    throw new TypeError(
      invalidOptionMessage('registry', 'a prom-client Registry', registry),
    );
  }
  return registry as Registry;
}

function resolveExcludePaths(paths: unknown): ReadonlySet<string> {
  if (paths === undefined) return new Set();
  if (
    !Array.isArray(paths) ||
    !paths.every((path) => typeof path === 'string' && path.startsWith('/'))
  ) {
    throw new TypeError(
      invalidOptionMessage(
        'excludePaths',
        'an array of route templates that start with "/"',
        paths,
      ),
    );
  }
  return new Set(paths as string[]);
}

const PUSHGATEWAY_KEYS = new Set([
  'url',
  'jobName',
  'groupings',
  'intervalSeconds',
  'timeoutSeconds',
]);

function resolvePushgateway(
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
    throw new TypeError(
      invalidOptionMessage(
        'pushgateway.url',
        'an http:// or https:// URL',
        given.url,
      ),
    );
  }
  if (typeof given.jobName !== 'string' || given.jobName === '') {
    throw new TypeError(
      invalidOptionMessage(
        'pushgateway.jobName',
        'a non-empty string',
        given.jobName,
      ),
    );
  }
  const groupings: Record<string, string> = {};
  if (given.groupings !== undefined) {
    const entries = resolveObject(
      given.groupings,
      'pushgateway.groupings',
      undefined,
    );
    for (const [name, value] of Object.entries(entries)) {
      if (
        !LABEL_NAME_PATTERN.test(name) ||
        name.startsWith('__') ||
        name === 'job'
      ) {
        throw new TypeError(
          invalidOptionMessage(
            `pushgateway.groupings.${name}`,
            'a valid label name other than "job" ([a-zA-Z_][a-zA-Z0-9_]*)',
            name,
          ),
        );
      }
      if (typeof value !== 'string' || value === '') {
        throw new TypeError(
          invalidOptionMessage(
            `pushgateway.groupings.${name}`,
            'a non-empty string',
            value,
          ),
        );
      }
      groupings[name] = value;
    }
  }
  return {
    url,
    jobName: given.jobName,
    groupings,
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

function resolveCluster(cluster: unknown): ResolvedClusterOptions | undefined {
  if (cluster === undefined || cluster === false) return undefined;
  const given =
    cluster === true
      ? {}
      : resolveObject(
          cluster,
          'cluster',
          new Set(['workerLabel', 'timeoutSeconds']),
          'true, false or an object',
        );
  return {
    workerLabel: resolveBoolean(
      given.workerLabel,
      'cluster.workerLabel',
      false,
    ),
    timeoutSeconds: resolveSeconds(
      given.timeoutSeconds,
      'cluster.timeoutSeconds',
      3,
    ),
  };
}

/** Checks that `value` is a plain object whose keys are all in `known` (when given). */
function resolveObject(
  value: unknown,
  option: string,
  known: ReadonlySet<string> | undefined,
  expected = 'an object',
): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new TypeError(invalidOptionMessage(option, expected, value));
  }
  for (const key of Object.keys(value)) {
    if (known !== undefined && !known.has(key)) {
      throw new TypeError(
        invalidOptionMessage(
          `${option}.${key}`,
          `one of ${[...known].join(', ')} (unknown option)`,
          key,
        ),
      );
    }
  }
  return value as Record<string, unknown>;
}

function resolveSeconds(
  value: unknown,
  option: string,
  fallback: number,
): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new TypeError(
      invalidOptionMessage(option, 'a finite number of seconds above 0', value),
    );
  }
  return value;
}
