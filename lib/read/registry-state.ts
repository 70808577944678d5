import type { Registry } from 'prom-client';

const liveState = new WeakSet<object>();
const lastReset = new WeakMap<Registry, number>();

/**
 * Marks `metric` as the current state of something (connections open, a socket connected, jobs
 * waiting, host readings): `MetricsService.reset()` leaves it alone, since zeroing it would make it
 * lie (a connection gauge would go below 0 as the clients leave).
 */
export function markLiveState<T extends object>(metric: T): T {
  liveState.add(metric);
  return metric;
}

export function isLiveState(metric: object): boolean {
  return liveState.has(metric);
}

/** Notes that `registry`'s cumulative families were zeroed now, so exports restart their streams. */
export function noteRegistryReset(registry: Registry, at = Date.now()): void {
  lastReset.set(registry, at);
}

/** When `registry` was last reset (ms since the epoch), if ever. */
export function registryResetAt(registry: Registry): number | undefined {
  return lastReset.get(registry);
}
