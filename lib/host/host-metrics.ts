import { Logger } from '@nestjs/common';
import type { Registry } from 'prom-client';
import { GPU_FAMILIES } from './gpu-families.js';
import { GpuReader, type GpuReadOutcome } from './gpu-reader.js';
import { HOST_FAMILIES, registerCollectedFamilies } from './host-families.js';
import type { ResolvedGpuMetrics } from './host-metrics.options.js';
import { HostReader } from './host-reader.js';

const logger = new Logger('MetricsModule');

/**
 * Registers the host families in `registry` on Linux; elsewhere registers none and says so once.
 * Read at collection time, at most once a second.
 */
export function registerHostMetrics(
  registry: Registry,
  platform: NodeJS.Platform = process.platform,
  reader = new HostReader(),
): void {
  if (platform !== 'linux') {
    logger.log(
      `hostMetrics: host metrics are read from /proc and /sys on Linux only; this is ${platform}, so there are none`,
    );
    return;
  }
  registerCollectedFamilies(registry, HOST_FAMILIES, () => reader.read());
}

/**
 * Registers the GPU families in `registry`, read from `nvidia-smi`. Logs once when it is missing
 * (info) and once per failure streak (warning), never per scrape.
 */
export function registerGpuMetrics(
  registry: Registry,
  settings: ResolvedGpuMetrics,
): void {
  let previous: GpuReadOutcome['kind'] | undefined;
  const reader = new GpuReader({
    ...settings,
    onOutcome(outcome) {
      if (outcome.kind === previous) return;
      previous = outcome.kind;
      if (outcome.kind === 'missing')
        logger.log(
          `gpuMetrics: ${settings.command} was not found, so there are no GPU metrics (on Kubernetes, NVIDIA's DCGM exporter is the better source)`,
        );
      else if (outcome.kind === 'failed')
        logger.warn(
          `gpuMetrics: ${settings.command} ${outcome.reason}; the GPU series are left out until it answers`,
        );
    },
  });
  registerCollectedFamilies(registry, GPU_FAMILIES, () => reader.read());
}
