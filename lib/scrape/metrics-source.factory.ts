import { Logger } from '@nestjs/common';
import type { Registry } from 'prom-client';
import type { ResolvedMetricsOptions } from '../interfaces/metrics-module-options.interface.js';
import {
  ClusterWorkerSource,
  isClusterWorker,
} from '../cluster/cluster-worker.source.js';
import type { MetricsSource } from './metrics-source.js';

/** The registry itself, or in a `node:cluster` worker with `cluster` on, the totals of all workers. */
export function createMetricsSource(
  options: ResolvedMetricsOptions,
  registry: Registry,
): MetricsSource {
  if (options.cluster === undefined || !options.enabled) return registry;
  if (!isClusterWorker()) {
    new Logger('MetricsModule').log(
      'cluster is on but this process is not a node:cluster worker: serving its own metrics',
    );
    return registry;
  }
  return new ClusterWorkerSource(registry, options.cluster);
}
