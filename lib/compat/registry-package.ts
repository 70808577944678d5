import { Registry } from 'prom-client';
import { reportDegraded, type DegradedInternal } from './degraded.js';

/**
 * prom-client 15's `Registry#_metrics` (not in its type declarations): a plain object of metrics
 * by name. `@prometheus-io/client` 0.16 keeps a `Map` there and adds a static `Registry.aggregate`,
 * which is how a registry of that package is told from one of a second copy of prom-client 15.
 */
export const REGISTRY_METRICS: DegradedInternal = {
  internal: 'prom-client: Registry#_metrics',
  loss: 'a registry from a second copy of prom-client is accepted on its public methods alone, so one from @prometheus-io/client is only recognised by its static Registry.aggregate',
};

/** Which package a registry object comes from, as far as the option check needs to know. */
export type RegistryPackage =
  | 'prom-client'
  | 'prom-client (another copy)'
  | '@prometheus-io/client'
  | 'unknown';

const REGISTRY_METHODS = [
  'registerMetric',
  'metrics',
  'getSingleMetric',
  'getMetricsAsString',
  'setDefaultLabels',
  'getMetricsAsJSON',
] as const;

let ownShape: boolean | undefined;

/**
 * Whether this process's prom-client still keeps `_metrics` as a plain object, checked once on
 * `sample` (a new Registry; a test passes one it altered).
 */
export function ownRegistryKeepsPlainObject(
  sample: () => object = () => new Registry(),
): boolean {
  if (ownShape === undefined) {
    ownShape = isPlainObject((sample() as { _metrics?: unknown })._metrics);
    if (!ownShape) reportDegraded(REGISTRY_METRICS);
  }
  return ownShape;
}

/** Tells prom-client 15's registries (this copy's or another's) from `@prometheus-io/client`'s. */
export function registryPackage(registry: unknown): RegistryPackage {
  if (registry instanceof Registry) return 'prom-client';
  if (typeof registry !== 'object' || registry === null) return 'unknown';
  const methods = registry as Record<string, unknown>;
  if (!REGISTRY_METHODS.every((name) => typeof methods[name] === 'function'))
    return 'unknown';
  const metrics = (registry as { _metrics?: unknown })._metrics;
  if (ownRegistryKeepsPlainObject()) {
    if (metrics instanceof Map) return '@prometheus-io/client';
    return isPlainObject(metrics) ? 'prom-client (another copy)' : 'unknown';
  }
  // prom-client 15 has a static aggregate() only on AggregatorRegistry.
  const constructor = (registry as { constructor?: unknown }).constructor as
    { aggregate?: unknown; name?: unknown } | undefined;
  return typeof constructor?.aggregate === 'function' &&
    constructor.name !== 'AggregatorRegistry'
    ? '@prometheus-io/client'
    : 'prom-client (another copy)';
}

function isPlainObject(value: unknown): boolean {
  if (value === null || typeof value !== 'object') return false;
  const prototype: unknown = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

/** Test seam: forgets the start-up self-check, so a test can run it again. */
export function forgetRegistryShapeCheck(): void {
  ownShape = undefined;
}
