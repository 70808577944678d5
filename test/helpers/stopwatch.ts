/**
 * Starts a monotonic stopwatch; the returned function gives the seconds since. A duration the
 * library measured inside this window can be at most that long: tests bound a measured duration
 * by what they saw instead of by a fixed number of seconds that a loaded machine can exceed.
 */
export function stopwatch(): () => number {
  const startedAt = performance.now();
  return () => (performance.now() - startedAt) / 1000;
}
