import { collectDefaultMetrics, Registry } from 'prom-client';
import { MISNAMED_DEFAULT_METRICS } from './metrics.constants.js';
import type { ResolvedMetricsOptions } from './interfaces/metrics-module-options.interface.js';

/** The module's registry: the user's, or a new one. Never prom-client's global registry. */
export function createRegistry(options: ResolvedMetricsOptions): Registry {
  const registry = options.registry ?? new Registry();
  if (Object.keys(options.defaultLabels).length > 0) {
    registry.setDefaultLabels(options.defaultLabels);
  }
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
