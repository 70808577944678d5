import { Logger } from '@nestjs/common';
import { formatMs } from '../lifecycle/bounded-shutdown.js';
import type { ResolvedQueueDepthOptions } from './queue-depth.options.js';
import {
  QUEUE_JOB_STATES,
  type QueueJobState,
} from './queue-depth.families.js';

export {
  QUEUE_DEPTH_FAMILIES,
  QUEUE_JOB_STATES,
  type QueueJobState,
} from './queue-depth.families.js';

/** What the library calls on a BullMQ `Queue` (public API), declared by shape. */
export interface DepthQueue {
  readonly name: string;
  getJobCounts(...states: string[]): Promise<Record<string, number>>;
  getWorkersCount(): Promise<number>;
  isPaused?(): Promise<boolean>;
}

/** One reading of a queue. */
export interface QueueReading {
  readonly jobs: Readonly<Record<QueueJobState, number>>;
  readonly workers: number;
}

/** How long past its cache period a reading is still served while Redis does not answer. */
const STALE_AFTER_MS = 60_000;

interface Source {
  readonly queue: DepthQueue;
  last: QueueReading | undefined;
  /** When `last` was read (ms since the epoch). */
  lastAt: number;
  /** The reading under way: a slow Redis gets one at a time, never a pile of them. */
  pending: Promise<QueueReading> | undefined;
  /** In a streak of readings that failed or came too late (warned once per streak). */
  failing: boolean;
}

const logger = new Logger('MetricsModule');

/**
 * Reads the depth of each queue at scrape time: one `getJobCounts()` (a single Lua script), one
 * `getWorkersCount()` (a `CLIENT LIST`) and one `isPaused()` (an `HEXISTS`), sent together on the
 * queue's connection, so a reading waits for one round trip. A reading serves every scrape for `cacheSeconds`; a scrape
 * waits at most `timeoutSeconds` for a queue, then serves its last reading (or nothing before
 * the first), and the streak of late or failed readings is logged once.
 */
export class QueueDepthReader {
  private readonly sources: Source[];
  private round: Promise<void> | undefined;
  private roundStartedAt = Number.NEGATIVE_INFINITY;
  private roundPending = false;
  private closed = false;

  constructor(
    queues: readonly DepthQueue[],
    private readonly options: ResolvedQueueDepthOptions,
  ) {
    this.sources = queues.map((queue) => ({
      queue,
      last: undefined,
      lastAt: 0,
      pending: undefined,
      failing: false,
    }));
  }

  get queueNames(): string[] {
    return this.sources.map((source) => source.queue.name);
  }

  /** The readings to serve now, by queue name: fresh, cached, stale or (none yet) left out. */
  async readings(): Promise<Map<string, QueueReading>> {
    if (!this.closed) {
      const now = performance.now();
      // A round still under way serves too: both families of one scrape share it.
      if (
        this.round === undefined ||
        (!this.roundPending &&
          now - this.roundStartedAt >= this.options.cacheSeconds * 1000)
      ) {
        this.roundStartedAt = now;
        this.roundPending = true;
        this.round = Promise.all(
          this.sources.map((source) => this.refresh(source)),
        ).then(() => {
          this.roundPending = false;
        });
      }
      await this.round;
    }
    const readings = new Map<string, QueueReading>();
    // A Redis that never answers (an offline queue that waits forever) must not leave a reading
    // of long ago in the scrape as if it were current.
    const oldest =
      Date.now() - STALE_AFTER_MS - this.options.cacheSeconds * 1000;
    for (const { queue, last, lastAt } of this.sources)
      if (last !== undefined && lastAt >= oldest)
        readings.set(queue.name, last);
    return readings;
  }

  /** Stops reading: later scrapes serve nothing. */
  close(): void {
    this.closed = true;
  }

  private async refresh(source: Source): Promise<void> {
    const timeoutMs = this.options.timeoutSeconds * 1000;
    source.pending ??= read(source.queue).finally(() => {
      source.pending = undefined;
    });
    const reading = source.pending;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<'late'>((resolve) => {
      timer = setTimeout(() => resolve('late'), timeoutMs);
      timer.unref();
    });
    let outcome: QueueReading | 'late' | Error;
    try {
      outcome = await Promise.race([reading, late]);
    } catch (error) {
      outcome = error instanceof Error ? error : new Error(String(error));
    } finally {
      clearTimeout(timer);
    }
    if (outcome !== 'late' && !(outcome instanceof Error)) {
      source.last = outcome;
      source.lastAt = Date.now();
      source.failing = false;
      return;
    }
    // A reading that arrives after the scrape gave up on it still serves the next scrapes.
    reading.then(
      (value) => {
        source.last = value;
        source.lastAt = Date.now();
      },
      () => undefined,
    );
    if (source.failing) return;
    source.failing = true;
    const why =
      outcome === 'late'
        ? `not read within ${formatMs(timeoutMs)}`
        : `not read (${outcome.message})`;
    const serving =
      source.last === undefined
        ? 'its queue_jobs and queue_workers series are left out'
        : 'the last value read is served';
    logger.warn(
      `nestjs-metrics: the depth of queue "${source.queue.name}" was ${why}; ${serving} until Redis answers in time again.`,
    );
  }
}

/**
 * One reading: the three commands are issued before any answer is awaited, so they travel
 * together on the queue's connection (one round trip). BullMQ 5+ keeps the jobs of a paused
 * queue in its wait list: while the queue is paused they are counted as `paused`, as older
 * versions (which moved them to a list of their own) did.
 */
async function read(queue: DepthQueue): Promise<QueueReading> {
  const [counts, workers, paused] = await Promise.all([
    queue.getJobCounts(...QUEUE_JOB_STATES),
    queue.getWorkersCount(),
    typeof queue.isPaused === 'function' ? queue.isPaused() : false,
  ]);
  const jobs = Object.fromEntries(
    QUEUE_JOB_STATES.map((state) => [state, Number(counts[state] ?? 0)]),
  ) as Record<QueueJobState, number>;
  if (paused) {
    jobs.paused += jobs.waiting;
    jobs.waiting = 0;
  }
  return { jobs, workers };
}
