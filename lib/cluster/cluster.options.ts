import type { ResolvedClusterOptions } from '../interfaces/cluster-options.interface.js';
import {
  resolveBoolean,
  resolveObject,
  resolveSeconds,
} from '../options/option-checks.js';

/** The label `cluster.workerLabel` adds to every series the primary serves. */
export const WORKER_LABEL = 'worker';

/** Checks the `cluster` option and fills in its defaults; `undefined` when it is off. */
export function resolveCluster(
  cluster: unknown,
): ResolvedClusterOptions | undefined {
  if (cluster === undefined || cluster === false) return undefined;
  const given =
    cluster === true
      ? {}
      : resolveObject(
          cluster,
          'cluster',
          new Set(['workerLabel', 'timeoutSeconds']),
          'true, false or an object',
        );
  return {
    workerLabel: resolveBoolean(
      given.workerLabel,
      'cluster.workerLabel',
      false,
    ),
    timeoutSeconds: resolveSeconds(
      given.timeoutSeconds,
      'cluster.timeoutSeconds',
      3,
    ),
  };
}
