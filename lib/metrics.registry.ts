import { collectDefaultMetrics, type Registry } from 'prom-client';
import { checkPromClient } from './compat/prom-client.js';
import { MISNAMED_DEFAULT_METRICS } from './metrics.constants.js';
import type { ResolvedMetricsOptions } from './interfaces/metrics-module-options.interface.js';
import { ExpositionRegistry } from './scrape/exposition-registry.js';
import { GPU_FAMILIES } from './host/gpu-families.js';
import { HOST_FAMILIES } from './host/host-families.js';
import {
  registerGpuMetrics,
  registerHostMetrics,
} from './host/host-metrics.js';

/**
 * The module's registry: the user's, or a new `ExpositionRegistry` (whose `metrics()` is faster).
 * Never prom-client's global registry.
 */
export function createRegistry(options: ResolvedMetricsOptions): Registry {
  const registry = options.registry ?? new ExpositionRegistry();
  if (Object.keys(options.defaultLabels).length > 0) {
    registry.setDefaultLabels(options.defaultLabels);
  }
  if (options.enabled) checkPromClient(registry, options.defaultLabels);
  if (!options.enabled) return registry;
  if (options.hostMetrics && !registry.getSingleMetric(HOST_FAMILIES[0].name))
    registerHostMetrics(registry);
  if (options.gpuMetrics && !registry.getSingleMetric(GPU_FAMILIES[0].name))
    registerGpuMetrics(registry, options.gpuMetrics);
  const settings = options.defaultMetrics;
  if (settings === false) return registry;
  // The `prefix` option is the app's; default metrics keep their standard names unless
  // `defaultMetrics.prefix` says otherwise, so the usual Node.js dashboards work.
  const alreadyCollected =
    registry.getSingleMetric(
      `${settings.prefix}process_cpu_user_seconds_total`,
    ) !== undefined;
  if (!alreadyCollected) {
    collectDefaultMetrics({
      ...settings,
      gcDurationBuckets: settings.gcDurationBuckets && [
        ...settings.gcDurationBuckets,
      ],
      register: registry,
    });
    for (const name of MISNAMED_DEFAULT_METRICS)
      registry.removeSingleMetric(`${settings.prefix}${name}`);
  }
  return registry;
}
