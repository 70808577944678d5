import { DEFAULT_QUEUE_WAIT_BUCKETS } from './metrics.constants.js';
import { invalidOptionMessage } from './metrics.messages.js';
import { environmentOptions } from './metrics.environment.js';
import type {
  MetricsModuleOptions,
  ResolvedMetricsOptions,
} from './interfaces/metrics-module-options.interface.js';
import { resolveMaxSeries } from './cardinality/max-series.options.js';
import { resolveClientMetrics } from './client/client-metrics.options.js';
import { resolveCluster } from './cluster/cluster.options.js';
import { resolveExcludePaths } from './http/exclude-paths.options.js';
import { resolveLogErrors } from './logs/log-errors.options.js';
import { resolveDefaultMetrics } from './options/default-metrics.options.js';
import { resolveBoolean } from './options/option-checks.js';
import { resolvePushgateway } from './push/pushgateway.options.js';
import { resolveQueueDepth } from './queue/queue-depth.options.js';
import {
  mergeLogPush,
  resolveLogPush,
} from './push/log-push/log-push.options.js';
import {
  resolveBuckets,
  resolveTransportBuckets,
} from './recorder/buckets.options.js';
import {
  libraryLabels,
  resolveDefaultLabels,
  resolvePrefix,
  resolveRegistry,
} from './registry.options.js';
import { resolvePath } from './scrape/metrics-path.options.js';
import { resolveHost, resolvePort } from './scrape/metrics-port.options.js';
import { resolveScrapeAuth } from './scrape/resolve-scrape-auth.js';
import { resolveSummary, withSummaryPath } from './summary/summary.options.js';
import { resolveOtlp } from './export/otlp/otlp.options.js';
import { resolveExemplars } from './exemplars/exemplars.options.js';
import {
  resolveGpuMetrics,
  resolveHostMetrics,
} from './host/host-metrics.options.js';

export { resolveBuckets } from './recorder/buckets.options.js';

/**
 * How each option is checked and completed; every check sits beside its feature. `all` is every
 * option as given (code over environment), for the checks that read two options.
 */
const RESOLVERS: {
  readonly [K in keyof ResolvedMetricsOptions]-?: (
    value: unknown,
    all: Readonly<Record<string, unknown>>,
  ) => ResolvedMetricsOptions[K];
} = {
  path: (path) => resolvePath(path),
  prefix: (prefix) => resolvePrefix(prefix),
  defaultLabels: (labels, all) =>
    resolveDefaultLabels(
      labels,
      libraryLabels(workerLabelOn(all.cluster), all.clientMetrics === true),
    ),
  buckets: resolveTransportBuckets,
  defaultMetrics: resolveDefaultMetrics,
  registry: resolveRegistry,
  excludePaths: (paths, all) =>
    withSummaryPath(resolveExcludePaths(paths), all),
  enabled: (value) => resolveBoolean(value, 'enabled', true),
  maxSeries: resolveMaxSeries,
  auth: resolveScrapeAuth,
  pushgateway: resolvePushgateway,
  cluster: resolveCluster,
  queueWaitBuckets: (buckets) =>
    resolveBuckets(buckets, 'queueWaitBuckets') ?? DEFAULT_QUEUE_WAIT_BUCKETS,
  queueDepth: resolveQueueDepth,
  port: (port) => resolvePort(port),
  host: (host, all) => resolveHost(host, all.port),
  summary: resolveSummary,
  logPush: resolveLogPush,
  hostMetrics: resolveHostMetrics,
  gpuMetrics: resolveGpuMetrics,
  otlp: (otlp) => resolveOtlp(otlp),
  clientMetrics: resolveClientMetrics,
  logErrors: resolveLogErrors,
  exemplars: resolveExemplars,
};

const KNOWN_OPTIONS: readonly string[] = Object.keys(RESOLVERS);

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
    if (!KNOWN_OPTIONS.includes(key)) {
      throw new TypeError(
        invalidOptionMessage(
          key,
          `one of ${KNOWN_OPTIONS.join(', ')} (unknown option)`,
          key,
        ),
      );
    }
  }
  const environment = environmentOptions();
  const options: Record<string, unknown> = {
    ...environment,
    ...definedOnly(given),
  };
  options.logPush = mergeLogPush(environment.logPush, given.logPush);
  // A METRICS_LABEL_<NAME> variable adds its label; a label of the same name given in code wins.
  if (environment.defaultLabels && isPlainLabels(given.defaultLabels))
    options.defaultLabels = {
      ...environment.defaultLabels,
      ...given.defaultLabels,
    };
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
  const resolved: Record<string, unknown> = {};
  for (const key of KNOWN_OPTIONS) {
    const resolve = RESOLVERS[key as keyof ResolvedMetricsOptions];
    resolved[key] = resolve(options[key], options);
  }
  if (resolved.otlp !== undefined && resolved.cluster !== undefined) {
    // Each worker would export its own numbers as the same series of the same resource.
    throw new TypeError(
      invalidOptionMessage(
        'otlp',
        'left out when "cluster" is on (each worker would export its own numbers as the same series; export from each worker with a resource attribute of its own, e.g. otlp: { resource: { \'service.instance.id\': String(cluster.worker.id) } }, and no "cluster")',
        'both options',
      ),
    );
  }
  return resolved as unknown as ResolvedMetricsOptions;
}

function isPlainLabels(labels: unknown): labels is Record<string, unknown> {
  return (
    typeof labels === 'object' && labels !== null && !Array.isArray(labels)
  );
}

/** Whether `cluster` asks for the worker label; the option itself is checked on its own. */
function workerLabelOn(cluster: unknown): boolean {
  return (
    typeof cluster === 'object' &&
    cluster !== null &&
    (cluster as { workerLabel?: unknown }).workerLabel === true
  );
}

/** The options given a value: `undefined` (e.g. from an unset config key) leaves the environment's. */
function definedOnly(options: MetricsModuleOptions): MetricsModuleOptions {
  return Object.fromEntries(
    Object.entries(options).filter(([, value]) => value !== undefined),
  );
}
