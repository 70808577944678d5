import type { Registry } from 'prom-client';
import type { KeptExemplar } from '../exemplars/trace-exemplars.js';

export type LabelValues = Record<string, string | number>;

export interface FamilyValue {
  value: number;
  labels: LabelValues;
  metricName?: string;
  sharedLabels?: LabelValues;
  /** Rendered by prom-client in OpenMetrics only, as for its own metrics. */
  exemplar?: KeptExemplar;
}

/** How `node:cluster` aggregation combines the workers' values of a family (prom-client aggregators). */
export type FamilyAggregator = 'sum' | 'max';

export interface FamilySnapshot {
  name: string;
  help: string;
  type: 'counter' | 'gauge' | 'histogram';
  values: FamilyValue[];
  aggregator: FamilyAggregator;
}

/** What a family needs from the scrape to write its sample lines itself. */
export interface SampleTextContext {
  /** The name its samples carry (for an OpenMetrics counter, the family name plus `_total`). */
  readonly sampleName: string;
  /**
   * The registry's default labels as `name="value"` pairs in prom-client's order, leaving out
   * `excluded` (the sample's own labels win); '' when there are none.
   */
  defaultLabelPairs(excluded: readonly string[]): string;
  /** The scrape is in OpenMetrics: exemplars are written (the text format has none). */
  readonly openMetrics?: boolean;
}

/**
 * Writes a family's sample lines straight from the recorder, in the order and format prom-client
 * renders its `get()` values: runs of whole lines, each line starting with `\n`. Between two runs
 * the scrape may yield to the event loop, so a run never ends inside a series.
 */
export type WriteSamples = (context: SampleTextContext) => Iterable<string>;

/**
 * A metric family whose values live in the recorder and are read only when the registry renders.
 * It speaks the same protocol as a prom-client metric (`get`, `reset`, `name`, `type`, ...), so
 * `registry.metrics()`, `getMetricsAsJSON()`, `Registry.merge()` and cluster aggregation see it
 * like any other metric.
 */
export class FamilyView {
  constructor(
    readonly name: string,
    readonly help: string,
    readonly type: 'counter' | 'gauge' | 'histogram',
    readonly labelNames: readonly string[],
    private readonly read: (name: string) => FamilyValue[],
    private readonly clear: () => void,
    readonly aggregator: FamilyAggregator = 'sum',
    /** The fast path of the scrape endpoint; without it the family renders through prom-client. */
    readonly writeSamples?: WriteSamples,
  ) {}

  register(registry: Registry): this {
    registry.registerMetric(this as never);
    return this;
  }

  async getForPromString(): Promise<FamilySnapshot> {
    return {
      name: this.name,
      help: this.help,
      type: this.type,
      values: this.read(this.name),
      aggregator: this.aggregator,
    };
  }

  async get(): Promise<FamilySnapshot> {
    const snapshot = await this.getForPromString();
    snapshot.values = snapshot.values.map(
      ({ value, labels, metricName, sharedLabels }) => ({
        value,
        labels: sharedLabels ? { ...sharedLabels, ...labels } : labels,
        ...(metricName ? { metricName } : {}),
      }),
    );
    return snapshot;
  }

  reset(): void {
    this.clear();
  }
}
