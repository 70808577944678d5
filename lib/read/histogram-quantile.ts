/** One cumulative bucket of a histogram: how many observations were ≤ `le`. */
export interface CumulativeBucket {
  readonly le: number;
  readonly count: number;
}

/**
 * The `q`-quantile (0 ≤ q ≤ 1) estimated from cumulative buckets exactly as Prometheus'
 * `histogram_quantile` does: linear interpolation inside the bucket the rank falls in, the lowest
 * bucket starting at 0 (unless its bound is ≤ 0), and the upper bound of the last finite bucket when
 * the rank falls in `+Inf`. `NaN` when there is no observation or no `+Inf` bucket.
 */
export function histogramQuantile(
  q: number,
  buckets: readonly CumulativeBucket[],
): number {
  if (Number.isNaN(q)) return NaN;
  if (q < 0) return -Infinity;
  if (q > 1) return Infinity;
  const sorted = [...buckets].sort((a, b) => a.le - b.le);
  if (sorted.length < 2 || sorted[sorted.length - 1].le !== Infinity)
    return NaN;
  // Prometheus makes cumulative counts monotonic before interpolating (ensureMonotonic).
  let highest = 0;
  const counts = sorted.map(
    ({ count }) => (highest = Math.max(highest, count)),
  );
  const total = counts[counts.length - 1];
  if (total === 0) return NaN;
  let rank = q * total;
  let b = counts.findIndex((count) => count >= rank);
  if (b === -1) b = counts.length - 1;
  if (b === sorted.length - 1) return sorted[sorted.length - 2].le;
  if (b === 0 && sorted[0].le <= 0) return sorted[0].le;
  let bucketStart = 0;
  const bucketEnd = sorted[b].le;
  let count = counts[b];
  if (b > 0) {
    bucketStart = sorted[b - 1].le;
    count -= counts[b - 1];
    rank -= counts[b - 1];
  }
  return bucketStart + (bucketEnd - bucketStart) * (rank / count);
}

/**
 * Per-bucket differences of two cumulative readings of the same histogram series (`later` minus
 * `earlier`): the buckets of the observations made between them. A series that was reset in
 * between (a count went down) reads as `later` alone, as Prometheus' `increase()` treats a reset.
 */
export function bucketIncrease(
  later: readonly CumulativeBucket[],
  earlier: readonly CumulativeBucket[] | undefined,
): CumulativeBucket[] {
  if (!earlier) return [...later];
  const before = new Map(earlier.map(({ le, count }) => [le, count]));
  const reset = later.some(({ le, count }) => count < (before.get(le) ?? 0));
  if (reset) return [...later];
  return later.map(({ le, count }) => ({
    le,
    count: count - (before.get(le) ?? 0),
  }));
}
