/** How long a scrape may hold the event loop before it gives other work a turn. */
export const SCRAPE_SLICE_MS = 4;

/**
 * Splits a long synchronous job into slices: once the job has run for `sliceMs` since it last
 * gave way, `due` says so and `giveWay()` waits for one turn of the event loop (`setImmediate`,
 * after pending I/O), so requests keep being served while a large registry renders.
 */
export class EventLoopSlice {
  private start = performance.now();

  constructor(private readonly sliceMs = SCRAPE_SLICE_MS) {}

  get due(): boolean {
    return performance.now() - this.start >= this.sliceMs;
  }

  async giveWay(): Promise<void> {
    await new Promise<void>((resolve) => setImmediate(resolve));
    this.start = performance.now();
  }
}
