import type { Attributes, HrTime } from '@opentelemetry/api';
import type { Resource } from '@opentelemetry/resources';
import type {
  CollectionResult,
  MetricData,
  MetricProducer,
} from '@opentelemetry/sdk-metrics';
import type { Registry } from 'prom-client';
import { defaultLabelsOf } from '../../compat/prom-client.js';
import { registryResetAt } from '../../read/registry-state.js';
import {
  readRegistry,
  type FamilyReading,
  type SeriesLabels,
} from '../../read/registry-reading.js';

/** `@opentelemetry/sdk-metrics` enums, by value, so this file imports the package's types only. */
const DATA_POINT = { HISTOGRAM: 0, GAUGE: 2, SUM: 3 } as const;
const CUMULATIVE = 1;
const DOUBLE = 1;

/** The OTLP unit of a family, from the unit suffix of its Prometheus name (UCUM codes). */
const UNIT_SUFFIXES: ReadonlyArray<[RegExp, string]> = [
  [/_seconds(_total)?$/, 's'],
  [/_bytes(_total)?$/, 'By'],
  [/_ratio$/, '1'],
  [/_celsius$/, 'Cel'],
  [/_watts$/, 'W'],
];

function unitOf(name: string): string {
  return UNIT_SUFFIXES.find(([suffix]) => suffix.test(name))?.[1] ?? '';
}

function hrTime(ms: number): HrTime {
  const seconds = Math.floor(ms / 1000);
  return [seconds, Math.round((ms - seconds * 1000) * 1e6)];
}

/**
 * An OpenTelemetry `MetricProducer` that reads every family of a prom-client registry at each
 * collection: counters become monotonic cumulative sums with a stable start time (this
 * producer's creation), histograms explicit-bucket histograms (cumulative `le` counts turned into
 * per-bucket counts), gauges gauges. A summary becomes a gauge per quantile (attribute
 * `quantile`) and monotonic sums `<name>_sum` and `<name>_count`, since the SDK has no summary
 * type. The registry's default labels are left out of the points: they are resource attributes.
 */
export class RegistryMetricProducer implements MetricProducer {
  private readonly startTime: HrTime;

  constructor(
    private readonly registry: Registry,
    private readonly resource: Resource,
    private readonly scope = { name: 'nestjs-metrics' },
    private readonly startedAtMs = Date.now(),
  ) {
    this.startTime = hrTime(startedAtMs);
  }

  async collect(): Promise<CollectionResult> {
    const endTime = hrTime(Date.now());
    // After MetricsService.reset() the cumulative streams start again, from the reset.
    const resetAt = registryResetAt(this.registry);
    const startTime =
      resetAt !== undefined && resetAt > this.startedAtMs
        ? hrTime(resetAt)
        : this.startTime;
    const defaults = defaultLabelsOf(this.registry) ?? {};
    const attributesOf = (labels: SeriesLabels): Attributes => {
      const attributes: Attributes = {};
      for (const [name, value] of Object.entries(labels))
        if (defaults[name] !== value) attributes[name] = value;
      return attributes;
    };
    const metrics: MetricData[] = [];
    for (const family of await readRegistry(this.registry))
      metrics.push(
        ...this.toMetricData(family, attributesOf, startTime, endTime),
      );
    return {
      resourceMetrics: {
        resource: this.resource,
        scopeMetrics: [{ scope: this.scope, metrics }],
      },
      errors: [],
    };
  }

  private toMetricData(
    family: FamilyReading,
    attributesOf: (labels: SeriesLabels) => Attributes,
    startTime: HrTime,
    endTime: HrTime,
  ): MetricData[] {
    const descriptor = (name: string) => ({
      name,
      description: family.help,
      unit: unitOf(name),
      valueType: DOUBLE,
    });
    const sum = (name: string, points: Array<[SeriesLabels, number]>) =>
      ({
        descriptor: descriptor(name),
        aggregationTemporality: CUMULATIVE,
        dataPointType: DATA_POINT.SUM,
        isMonotonic: true,
        dataPoints: points.map(([labels, value]) => ({
          startTime,
          endTime,
          attributes: attributesOf(labels),
          value,
        })),
      }) as unknown as MetricData;
    const gauge = (
      name: string,
      points: Array<[Attributes, number]>,
    ): MetricData =>
      ({
        descriptor: descriptor(name),
        aggregationTemporality: CUMULATIVE,
        dataPointType: DATA_POINT.GAUGE,
        dataPoints: points.map(([attributes, value]) => ({
          startTime,
          endTime,
          attributes,
          value,
        })),
      }) as unknown as MetricData;
    switch (family.type) {
      case 'counter':
        return [
          sum(
            family.name,
            family.series.map((series) => [series.labels, series.value]),
          ),
        ];
      case 'gauge':
        return [
          gauge(
            family.name,
            family.series.map((series) => [
              attributesOf(series.labels),
              series.value,
            ]),
          ),
        ];
      case 'histogram':
        return [
          {
            descriptor: descriptor(family.name),
            aggregationTemporality: CUMULATIVE,
            dataPointType: DATA_POINT.HISTOGRAM,
            dataPoints: family.series.map((series) => {
              const boundaries = series.buckets
                .filter(({ le }) => le !== Infinity)
                .map(({ le }) => le);
              let below = 0;
              const counts = series.buckets.map(({ count }) => {
                const inBucket = count - below;
                below = count;
                return inBucket;
              });
              return {
                startTime,
                endTime,
                attributes: attributesOf(series.labels),
                value: {
                  buckets: { boundaries, counts },
                  sum: series.sum,
                  count: series.count,
                },
              };
            }),
          } as unknown as MetricData,
        ];
      case 'summary':
        return [
          gauge(
            family.name,
            family.series.flatMap((series) =>
              series.quantiles.map(
                ({ quantile, value }): [Attributes, number] => [
                  { ...attributesOf(series.labels), quantile },
                  value,
                ],
              ),
            ),
          ),
          sum(
            `${family.name}_sum`,
            family.series.map((series) => [series.labels, series.sum]),
          ),
          sum(
            `${family.name}_count`,
            family.series.map((series) => [series.labels, series.count]),
          ),
        ];
    }
  }
}
