/** How many steps a window is divided into: the ring keeps at most this many snapshots, plus one. */
export const RING_STEPS = 10;

/** One cumulative reading kept in the ring, and when it was taken (ms on `now`'s clock). */
export interface RingEntry<T> {
  readonly at: number;
  readonly value: T;
}

/**
 * A ring of cumulative snapshots covering a sliding window of `windowMs`. A snapshot is kept only
 * when at least `windowMs / RING_STEPS` passed since the newest one kept, and dropped once older
 * than the window, so the ring never holds more than `RING_STEPS + 1` of them. The baseline of
 * the window is the oldest snapshot still inside it: with one offered every step, the window
 * read covers between `windowMs - step` and `windowMs`.
 */
export class SnapshotRing<T> {
  readonly stepMs: number;
  private readonly entries: RingEntry<T>[] = [];

  constructor(
    readonly windowMs: number,
    /** The first baseline, e.g. all zero at the start of the module. */
    origin: RingEntry<T>,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.stepMs = windowMs / RING_STEPS;
    this.entries.push(origin);
  }

  /** How many snapshots are kept. */
  get size(): number {
    return this.entries.length;
  }

  /** Keeps `value` taken `at` if a step passed since the newest snapshot kept. */
  offer(value: T, at: number = this.now()): void {
    this.evict(at);
    const newest = this.entries[this.entries.length - 1];
    if (newest !== undefined && at - newest.at < this.stepMs) return;
    this.entries.push({ at, value });
    if (this.entries.length > RING_STEPS + 1) this.entries.shift();
  }

  /** The oldest snapshot inside the window ending `at`, or `undefined` when none is. */
  baseline(at: number = this.now()): RingEntry<T> | undefined {
    this.evict(at);
    return this.entries[0];
  }

  private evict(at: number): void {
    const start = at - this.windowMs;
    while (this.entries.length > 0 && this.entries[0].at < start)
      this.entries.shift();
  }
}
