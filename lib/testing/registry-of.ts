import type { Registry } from 'prom-client';
import { METRICS_REGISTRY } from '../metrics.constants.js';

/** Anything Nest resolves providers from: an `INestApplication`, a `TestingModule`, a module ref. */
export interface ProviderSource {
  get(token: string, options: { strict: boolean }): unknown;
}

/** A prom-client `Registry`, or an app / testing module whose `MetricsModule` registry is read. */
export type RegistrySource = Registry | ProviderSource;

function isRegistry(value: unknown): value is Registry {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as Registry).getSingleMetric === 'function' &&
    typeof (value as Registry).getMetricsAsJSON === 'function'
  );
}

/**
 * The registry itself, or the one the app's `MetricsModule` provides (the `METRICS_REGISTRY`
 * token). Fails naming what it was given when neither applies.
 */
export function registryOf(source: RegistrySource): Registry {
  if (isRegistry(source)) return source;
  if (
    typeof source === 'object' &&
    source !== null &&
    typeof (source as ProviderSource).get === 'function'
  ) {
    let registry: unknown;
    try {
      registry = source.get(METRICS_REGISTRY, { strict: false });
    } catch (error) {
      throw new Error(
        `nestjs-metrics/testing: this app or testing module has no MetricsModule registry (the METRICS_REGISTRY provider): import MetricsModule.forRoot() or MetricsTestingModule.forRoot() in it (${(error as Error).message})`,
        { cause: error },
      );
    }
    if (isRegistry(registry)) return registry;
  }
  throw new TypeError(
    'nestjs-metrics/testing: expected a prom-client Registry, an INestApplication or a TestingModule',
  );
}
