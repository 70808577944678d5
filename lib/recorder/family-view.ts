import type { Registry } from 'prom-client';

export type LabelValues = Record<string, string | number>;

export interface FamilyValue {
  value: number;
  labels: LabelValues;
  metricName?: string;
  sharedLabels?: LabelValues;
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
