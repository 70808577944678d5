import { Registry } from 'prom-client';
import {
  DEFAULT_DURATION_BUCKETS,
  DEFAULT_METRICS_PATH,
  DEFAULT_QUEUE_WAIT_BUCKETS,
  LABEL_NAME_PATTERN,
  METRIC_NAME_PATTERN,
} from './metrics.constants.js';
import { invalidOptionMessage } from './metrics.messages.js';
import type {
  MetricsModuleOptions,
  ResolvedMetricsOptions,
} from './interfaces/metrics-module-options.interface.js';

const KNOWN_OPTIONS = new Set<string>([
  'path',
  'prefix',
  'defaultLabels',
  'buckets',
  'defaultMetrics',
  'registry',
  'excludePaths',
  'enabled',
  'queueWaitBuckets',
  'port',
  'host',
]);

/** Merges the defaults into the user's options and checks every value; throws naming the option. */
export function resolveOptions(
  options: MetricsModuleOptions = {},
): ResolvedMetricsOptions {
  if (
    options === null ||
    typeof options !== 'object' ||
    Array.isArray(options)
  ) {
    throw new TypeError(invalidOptionMessage('options', 'an object', options));
  }
  for (const key of Object.keys(options)) {
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
    queueWaitBuckets:
      resolveBuckets(options.queueWaitBuckets, 'queueWaitBuckets') ??
      DEFAULT_QUEUE_WAIT_BUCKETS,
    port: resolvePort(options.port),
    host: resolveHost(options.host, options.port),
  };
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
  if (typeof path !== 'string' || !/^\/[^\s?#]*$/.test(path) || path === '/') {
    throw new TypeError(
      invalidOptionMessage(
        'path',
        'a path that starts with "/", is not "/" and has no spaces, "?" or "#"',
        path,
      ),
    );
  }
  return path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path;
}

function resolvePrefix(prefix: unknown): string {
  if (prefix === undefined || prefix === '') return '';
  if (typeof prefix !== 'string' || !METRIC_NAME_PATTERN.test(prefix)) {
    throw new TypeError(
      invalidOptionMessage(
        'prefix',
        'a string of [a-zA-Z0-9_:] that does not start with a digit',
        prefix,
      ),
    );
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
