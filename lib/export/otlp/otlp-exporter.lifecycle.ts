import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import type { MeterProvider } from '@opentelemetry/sdk-metrics';
import type { Registry } from 'prom-client';
import { runAsLibraryCall } from '../../client/library-calls.js';
import type { ResolvedMetricsOptions } from '../../interfaces/metrics-module-options.interface.js';
import { finishWithin, formatMs } from '../../lifecycle/bounded-shutdown.js';
import { defaultLabelsOf } from '../../compat/prom-client.js';
import {
  METRICS_REGISTRY,
  METRICS_RESOLVED_OPTIONS,
} from '../../metrics.constants.js';
import type { ResolvedOtlpOptions } from './otlp.options.js';
import { RegistryMetricProducer } from './registry-metric-producer.js';

type ExportResult = { code: number; error?: Error };
interface PushExporter {
  export(metrics: unknown, done: (result: ExportResult) => void): void;
  forceFlush(): Promise<void>;
  shutdown(): Promise<void>;
  selectAggregationTemporality?: (type: never) => never;
  selectAggregation?: (type: never) => never;
}

/**
 * Exports every family of the module's registry over OTLP/HTTP (`otlp` option), through the
 * official OpenTelemetry SDK: a private `MeterProvider` whose periodic reader collects the
 * registry (`RegistryMetricProducer`) and hands it to the OTLP exporter, at `intervalMs`. The SDK
 * packages are imported only when the option is on. A failing endpoint logs one warning per
 * failure streak and never reaches the app; `app.close()` exports once more, within the export
 * timeout. The exporter's own HTTP calls run as the library's calls (not counted as outbound).
 */
@Injectable()
export class OtlpExporter
  implements OnApplicationBootstrap, OnApplicationShutdown
{
  private readonly logger = new Logger('MetricsModule');
  private readonly options: ResolvedOtlpOptions | undefined;
  private provider?: MeterProvider;
  private starting?: Promise<void>;
  private failing = false;
  /** Export results, for the tests and the closing figures: how many went out and failed. */
  readonly exports = { succeeded: 0, failed: 0 };

  constructor(
    @Inject(METRICS_REGISTRY) private readonly registry: Registry,
    @Inject(METRICS_RESOLVED_OPTIONS) options: ResolvedMetricsOptions,
  ) {
    this.options = options.enabled ? options.otlp : undefined;
  }

  onApplicationBootstrap(): Promise<void> | undefined {
    if (this.options === undefined) return undefined;
    this.starting = this.start(this.options).catch((error: unknown) => {
      this.logger.warn(
        `otlp: the OpenTelemetry SDK could not be loaded (${String(error)}); install @opentelemetry/sdk-metrics, @opentelemetry/resources and @opentelemetry/exporter-metrics-otlp-proto (or -http for http/json). Metrics are not exported over OTLP`,
      );
    });
    return this.starting;
  }

  async onApplicationShutdown(): Promise<void> {
    await this.starting;
    const provider = this.provider;
    if (provider === undefined || this.options === undefined) return;
    this.provider = undefined;
    // One export's timeout bounds the shutdown, not the (longer) budget of a periodic one.
    const budgetMs = Math.min(
      this.options.exportTimeoutMs,
      this.options.timeoutMs,
    );
    const inTime = await finishWithin(
      budgetMs,
      () =>
        runAsLibraryCall(() => provider.shutdown({ timeoutMillis: budgetMs })),
      (error) =>
        this.logger.warn(`otlp: the final export failed: ${String(error)}`),
    );
    if (!inTime)
      this.logger.warn(
        `otlp: the final export to ${this.options.endpoint} did not finish within ${formatMs(budgetMs)}`,
      );
  }

  private async start(options: ResolvedOtlpOptions): Promise<void> {
    const [sdk, resources, exporterPackage] = await Promise.all([
      import('@opentelemetry/sdk-metrics'),
      import('@opentelemetry/resources'),
      options.protocol === 'http/json'
        ? import('@opentelemetry/exporter-metrics-otlp-http')
        : import('@opentelemetry/exporter-metrics-otlp-proto'),
    ]);
    const resource = resources.defaultResource().merge(
      resources.resourceFromAttributes({
        ...(defaultLabelsOf(this.registry) as Record<string, string>),
        ...options.resource,
      }),
    );
    const exporter = new exporterPackage.OTLPMetricExporter({
      url: options.endpoint,
      headers: { ...options.headers },
      timeoutMillis: options.timeoutMs,
      compression: options.compression as never,
      temporalityPreference: sdk.AggregationTemporality.CUMULATIVE,
    }) as unknown as PushExporter;
    const reader = new sdk.PeriodicExportingMetricReader({
      exporter: this.watch(exporter, options) as never,
      exportIntervalMillis: options.intervalMs,
      exportTimeoutMillis: options.exportTimeoutMs,
      metricProducers: [new RegistryMetricProducer(this.registry, resource)],
    });
    // Created inside the library's call context, so its timer's exports are, too.
    this.provider = runAsLibraryCall(
      () => new sdk.MeterProvider({ resource, readers: [reader] }),
    );
  }

  /** The exporter, with one log line when exports start failing and one when they recover. */
  private watch(
    exporter: PushExporter,
    options: ResolvedOtlpOptions,
  ): PushExporter {
    return {
      export: (metrics, done) =>
        exporter.export(metrics, (result) => {
          if (result.code === 0) {
            this.exports.succeeded += 1;
            if (this.failing)
              this.logger.log(
                `otlp: exports to ${options.endpoint} succeed again`,
              );
            this.failing = false;
          } else {
            this.exports.failed += 1;
            if (!this.failing)
              this.logger.warn(
                `otlp: export to ${options.endpoint} failed (${result.error?.message ?? 'unknown error'}); retrying at each interval, and silent until one succeeds`,
              );
            this.failing = true;
          }
          done(result);
        }),
      forceFlush: () => exporter.forceFlush(),
      shutdown: () => exporter.shutdown(),
      selectAggregationTemporality:
        exporter.selectAggregationTemporality?.bind(exporter),
    };
  }
}
