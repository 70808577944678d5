import { OVERFLOW_LABEL_VALUE } from '../metrics.constants.js';

export type CollectorLabels = Readonly<Record<string, string | number>>;

/** The values one gauge series took through the collector since the last reset. */
export interface GaugeSeriesStats {
  current: number;
  min: number;
  max: number;
  sum: number;
  /** How many values the series took (each collector call, and the 0 of a reset). */
  count: number;
}

/**
 * Min, max and mean of the series of one collector gauge: each `gauge()`, `increment()` and
 * `decrement()` call is one value, and so is the 0 a `reset()` sets. A few numbers per series,
 * updated in place; at most `maxSeries` label sets, the rest folded into the `OVERFLOW` one, as
 * the gauge's own series are.
 */
export class GaugeStats {
  private readonly series = new Map<string, GaugeSeriesStats>();
  private readonly overflowKey: string;

  constructor(
    private readonly labelNames: readonly string[],
    private readonly max: number,
  ) {
    this.overflowKey = this.keyOf(
      Object.fromEntries(labelNames.map((n) => [n, OVERFLOW_LABEL_VALUE])),
    );
  }

  /** The series now reads `value`. */
  set(labels: CollectorLabels | undefined, value: number): void {
    const stats = this.statsOf(labels);
    if (stats === undefined) {
      this.series.set(this.slotOf(labels), newStats(value));
      return;
    }
    take(stats, value);
  }

  /** The series moved by `delta` (from 0 when it is new). */
  add(labels: CollectorLabels | undefined, delta: number): void {
    const stats = this.statsOf(labels);
    if (stats === undefined) {
      this.series.set(this.slotOf(labels), newStats(delta));
      return;
    }
    take(stats, stats.current + delta);
  }

  /** The stats of a series, `undefined` when it took no value. */
  get(labels: CollectorLabels | undefined): GaugeSeriesStats | undefined {
    return this.series.get(this.keyOf(labels));
  }

  /** Every series read 0: each starts again from that one value. */
  zero(): void {
    for (const stats of this.series.values()) Object.assign(stats, newStats(0));
  }

  private statsOf(
    labels: CollectorLabels | undefined,
  ): GaugeSeriesStats | undefined {
    const key = this.keyOf(labels);
    const stats = this.series.get(key);
    if (stats !== undefined || this.series.size < this.max) return stats;
    return this.series.get(this.overflowKey);
  }

  /** Where a new series goes: its own slot, or OVERFLOW once `max` label sets are kept. */
  private slotOf(labels: CollectorLabels | undefined): string {
    return this.series.size < this.max ? this.keyOf(labels) : this.overflowKey;
  }

  private keyOf(labels: CollectorLabels | undefined): string {
    if (labels === undefined || this.labelNames.length === 0) return '';
    let key = '';
    for (const name of this.labelNames) key += `${String(labels[name])}\u0000`;
    return key;
  }
}

function newStats(value: number): GaugeSeriesStats {
  return { current: value, min: value, max: value, sum: value, count: 1 };
}

function take(stats: GaugeSeriesStats, value: number): void {
  stats.current = value;
  if (value < stats.min) stats.min = value;
  if (value > stats.max) stats.max = value;
  stats.sum += value;
  stats.count += 1;
}
