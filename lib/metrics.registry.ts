import { collectDefaultMetrics, type Registry } from 'prom-client';
import { checkPromClient } from './compat/prom-client.js';
import { MISNAMED_DEFAULT_METRICS } from './metrics.constants.js';
import type { ResolvedMetricsOptions } from './interfaces/metrics-module-options.interface.js';
import { ExpositionRegistry } from './scrape/exposition-registry.js';

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
  const alreadyCollected =
    registry.getSingleMetric(
      `${options.prefix}process_cpu_user_seconds_total`,
    ) !== undefined;
  if (options.enabled && options.defaultMetrics && !alreadyCollected) {
    collectDefaultMetrics({ register: registry, prefix: options.prefix });
    for (const name of MISNAMED_DEFAULT_METRICS)
      registry.removeSingleMetric(`${options.prefix}${name}`);
  }
  return registry;
}
