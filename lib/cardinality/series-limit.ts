import { Logger } from '@nestjs/common';
import { seriesLimitMessage } from '../metrics.messages.js';

const logger = new Logger('MetricsModule');

/**
 * Counts the label sets of one metric family (or of families that share their label sets) against
 * `maxSeries`, and logs one warning the first time a label set is refused.
 */
export class SeriesLimit {
  private count = 0;
  private warned = false;

  constructor(
    private readonly families: readonly string[],
    readonly max: number,
  ) {}

  /** Takes a slot for a new label set; `false` (and a warning the first time) once the family is full. */
  take(): boolean {
    if (this.count < this.max) {
      this.count += 1;
      return true;
    }
    this.refuse();
    return false;
  }

  /** Whether a new label set would be refused. */
  get full(): boolean {
    return this.count >= this.max;
  }

  /** Records that a label set was folded into the overflow series; warns the first time. */
  refuse(): void {
    if (this.warned) return;
    this.warned = true;
    logger.warn(seriesLimitMessage(this.families, this.max));
  }

  /** Gives a slot back (a label set was removed). */
  release(): void {
    if (this.count > 0) this.count -= 1;
  }

  /** Forgets every label set (the family was reset); the warning is still logged only once. */
  clear(): void {
    this.count = 0;
  }
}
