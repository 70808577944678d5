import { CLIENT_FAMILIES } from './client/client-families.js';
import { LOG_ERRORS_FAMILY } from './logs/log-errors-family.js';
import { Registry } from 'prom-client';
import { registryPackage } from './compat/registry-package.js';
import { WORKER_LABEL } from './cluster/cluster.options.js';
import {
  DECORATOR_LABELS,
  DEFAULT_COUNTED_NAME,
  DEFAULT_TIMED_NAME,
  METRIC_NAME_PATTERN,
  QUEUE_WAIT_LABELS,
  QUEUE_WAIT_METRIC,
} from './metrics.constants.js';
import {
  PREFIX_RULE,
  prometheusIoRegistryMessage,
  reservedDefaultLabelMessage,
} from './metrics.messages.js';
import {
  invalid,
  isLabelName,
  type SettingName,
} from './options/option-checks.js';
import { REQUEST_FAMILIES } from './recorder/request-families.js';
import { QUEUE_DEPTH_FAMILIES } from './queue/queue-depth.families.js';
import { WS_CONNECTION_FAMILIES } from './transports/ws-connections.families.js';

/** Checks the `prefix` option (or `METRICS_PREFIX`). */
export function resolvePrefix(
  prefix: unknown,
  name: SettingName = 'prefix',
): string {
  if (prefix === undefined || prefix === '') return '';
  if (typeof prefix !== 'string' || !METRIC_NAME_PATTERN.test(prefix)) {
    throw invalid(name, PREFIX_RULE, prefix);
  }
  return prefix;
}

/**
 * The label names a default label may not take, each with the reason: Prometheus's own (`le`,
 * `quantile`) and those the library sets on its series, whose value would win over the default
 * one (prom-client lets a series' own label win).
 */
export function libraryLabels(
  clusterWorkerLabel: boolean,
  clientMetrics = false,
): ReadonlyMap<string, string> {
  const owners = new Map<string, string[]>([
    ['le', ['Prometheus reserves it for histogram buckets']],
    ['quantile', ['Prometheus reserves it for summary quantiles']],
  ]);
  const add = (label: string, owner: string) =>
    owners.set(label, [...(owners.get(label) ?? []), owner]);
  const requestLabels = new Set(REQUEST_FAMILIES.flatMap((f) => f.labels));
  for (const label of requestLabels) {
    const families = REQUEST_FAMILIES.filter((f) => f.labels.includes(label));
    add(label, `a label of ${families.map((f) => f.name).join(', ')}`);
  }
  for (const label of DECORATOR_LABELS) {
    add(
      label,
      `a label of the @Timed and @Counted metrics (${DEFAULT_TIMED_NAME}, ${DEFAULT_COUNTED_NAME})`,
    );
  }
  for (const label of QUEUE_WAIT_LABELS)
    add(label, `a label of ${QUEUE_WAIT_METRIC}`);
  const gauges: ReadonlyArray<{ name: string; labels: readonly string[] }> = [
    ...Object.values(QUEUE_DEPTH_FAMILIES),
    ...Object.values(WS_CONNECTION_FAMILIES),
    LOG_ERRORS_FAMILY,
    // `host` is a common default label: it is only taken while the outbound calls are measured.
    ...(clientMetrics ? Object.values(CLIENT_FAMILIES) : []),
  ];
  for (const label of new Set(gauges.flatMap((f) => [...f.labels]))) {
    const families = gauges.filter((f) => f.labels.includes(label));
    add(label, `a label of ${families.map((f) => f.name).join(', ')}`);
  }
  if (clusterWorkerLabel)
    add(WORKER_LABEL, 'the label "cluster.workerLabel" adds');
  return new Map(
    [...owners].map(([label, reasons]) => [label, reasons.join('; ')]),
  );
}

/** Checks the `defaultLabels` option: label names to strings, none of them the library's own. */
export function resolveDefaultLabels(
  labels: unknown,
  taken: ReadonlyMap<string, string> = libraryLabels(false),
): Record<string, string> {
  if (labels === undefined) return {};
  if (labels === null || typeof labels !== 'object' || Array.isArray(labels)) {
    throw invalid(
      'defaultLabels',
      'an object of label names to strings',
      labels,
    );
  }
  const resolved: Record<string, string> = {};
  for (const [name, value] of Object.entries(labels)) {
    if (!isLabelName(name)) {
      throw invalid(
        `defaultLabels.${name}`,
        'a valid label name ([a-zA-Z_][a-zA-Z0-9_]*)',
        name,
      );
    }
    const reason = taken.get(name);
    if (reason !== undefined)
      throw new TypeError(reservedDefaultLabelMessage(name, reason));
    if (typeof value !== 'string') {
      throw invalid(`defaultLabels.${name}`, 'a string', value);
    }
    resolved[name] = value;
  }
  return resolved;
}

/**
 * Checks the `registry` option: a prom-client 15 `Registry` (this copy's, or a second copy's).
 * A registry of `@prometheus-io/client` is refused by name: the library's metrics are prom-client
 * 15 objects, and that package's own metrics and cluster aggregation would not meet them.
 */
export function resolveRegistry(registry: unknown): Registry | undefined {
  if (registry === undefined) return undefined;
  const from = registryPackage(registry);
  if (from === '@prometheus-io/client') {
    throw new TypeError(prometheusIoRegistryMessage());
  }
  if (from === 'unknown') {
    throw invalid('registry', 'a prom-client Registry', registry);
  }
  return registry as Registry;
}
