import { Module, type DynamicModule, type NestModule } from '@nestjs/common';
import { DiscoveryModule, HttpAdapterHost } from '@nestjs/core';
import type { Registry } from 'prom-client';
import {
  METRICS_REGISTRY,
  METRICS_RESOLVED_OPTIONS,
} from './metrics.constants.js';
import {
  ASYNC_OPTIONS_TYPE,
  ConfigurableModuleClass,
  METRICS_MODULE_OPTIONS,
  OPTIONS_TYPE,
} from './metrics.module-definition.js';
import { resolveOptions } from './metrics.options.js';
import { createRegistry } from './metrics.registry.js';
import { MetricsService } from './metrics.service.js';
import { DECORATOR_PROVIDERS, MetricsExplorer } from './metrics.explorer.js';
import { MetricsMetadataAccessor } from './metrics-metadata.accessor.js';
import { HttpMetricsLifecycle } from './http/http-metrics.lifecycle.js';
import { MetricsEndpoint } from './scrape/metrics-endpoint.js';
import { MetricsServer } from './scrape/metrics-server.js';
import { QueueMetricsLifecycle } from './queue/queue-metrics.lifecycle.js';
import { GraphqlMetricsLifecycle } from './graphql/graphql-metrics.lifecycle.js';
import { QueueDepthLifecycle } from './queue/queue-depth.lifecycle.js';
import { RequestMetrics } from './recorder/request-metrics.js';
import { loadTraceExemplars } from './exemplars/trace-exemplars.js';
import { TransportHandlersBinder } from './transports/transport-handlers.binder.js';
import { WsConnections } from './transports/ws-connections.js';
import { PushgatewayPusher } from './push/pushgateway.pusher.js';
import { METRICS_SOURCE } from './scrape/metrics-source.js';
import { createMetricsSource } from './scrape/metrics-source.factory.js';
import type { ResolvedMetricsOptions } from './interfaces/metrics-module-options.interface.js';
import { firstDifference } from './http/one-instrumentation-per-app.js';
import { LogErrorEvents } from './logs/log-error-events.js';
import { MetricsSummaryReader } from './summary/metrics-summary.reader.js';
import { SummaryEndpoint } from './scrape/summary-endpoint.js';
import { SummaryRoute } from './scrape/summary-route.js';
import { LogPushSink } from './push/log-push/log-push.sink.js';
import { OtlpExporter } from './export/otlp/otlp-exporter.lifecycle.js';
import { ClientMetricsLifecycle } from './client/client-metrics.lifecycle.js';
import { LogErrorMetrics } from './logs/log-error-metrics.js';
import { watchNestMiddleware } from './http/nest-middleware.js';

/**
 * The modules `forRoot()`/`forRootAsync()` returned so far in this copy of the library, with what
 * they were given: identical calls return the very same module object, which Nest keeps once per
 * app under either module-token strategy (`reference` and `deep-hash`); separate apps still get
 * their own instance, since each has its own container.
 */
const madeForRoot: { given: unknown; module: DynamicModule }[] = [];
const madeForRootAsync: { given: unknown; module: DynamicModule }[] = [];

function memoised(
  made: { given: unknown; module: DynamicModule }[],
  given: unknown,
  make: () => DynamicModule,
): DynamicModule {
  const known = made.find(
    (entry) => firstDifference(entry.given, given, '') === undefined,
  );
  if (known !== undefined) return known.module;
  const module = make();
  made.push({ given, module });
  return module;
}

/**
 * Prometheus metrics for the whole app. Import it once, in the root module (a second import with
 * the same options joins the first; one with other options fails start-up):
 * every HTTP request is measured, `@Timed`/`@Counted` methods are instrumented,
 * and the registry is served at `path` (default `/metrics`).
 */
@Module({
  imports: [DiscoveryModule],
  providers: [
    {
      provide: METRICS_RESOLVED_OPTIONS,
      useFactory: resolveOptions,
      inject: [METRICS_MODULE_OPTIONS],
    },
    {
      provide: METRICS_REGISTRY,
      useFactory: createRegistry,
      inject: [METRICS_RESOLVED_OPTIONS],
    },
    {
      provide: RequestMetrics,
      useFactory: async (
        options: ResolvedMetricsOptions,
        registry: Registry,
      ) => {
        const metrics = new RequestMetrics(
          options.prefix,
          options.buckets,
          options.maxSeries,
        );
        if (options.enabled) {
          metrics.register(registry);
          metrics.exemplars = await loadTraceExemplars(options.exemplars);
        }
        return metrics;
      },
      inject: [METRICS_RESOLVED_OPTIONS, METRICS_REGISTRY],
    },
    {
      provide: METRICS_SOURCE,
      useFactory: createMetricsSource,
      inject: [METRICS_RESOLVED_OPTIONS, METRICS_REGISTRY],
    },
    MetricsService,
    MetricsMetadataAccessor,
    MetricsExplorer,
    ...DECORATOR_PROVIDERS,
    MetricsEndpoint,
    HttpMetricsLifecycle,
    TransportHandlersBinder,
    WsConnections,
    PushgatewayPusher,
    QueueMetricsLifecycle,
    GraphqlMetricsLifecycle,
    QueueDepthLifecycle,
    MetricsServer,
    LogErrorEvents,
    MetricsSummaryReader,
    SummaryEndpoint,
    SummaryRoute,
    LogPushSink,
    OtlpExporter,
    ClientMetricsLifecycle,
    LogErrorMetrics,
  ],
  exports: [MetricsService, METRICS_REGISTRY, MetricsServer, LogErrorMetrics],
})
export class MetricsModule
  extends ConfigurableModuleClass
  implements NestModule
{
  constructor(private readonly adapterHost: HttpAdapterHost) {
    super();
  }

  /**
   * Runs before Nest mounts any middleware: from here on, the middleware it mounts is known, so
   * that on Express a middleware for every path (nestjs-pino's) is not taken for an app route.
   */
  configure(): void {
    watchNestMiddleware(this.adapterHost?.httpAdapter);
  }

  /** Registers the module globally with the given options (all optional). */
  static override forRoot(options: typeof OPTIONS_TYPE = {}): DynamicModule {
    return memoised(madeForRoot, options, () => super.forRoot(options));
  }

  /** Registers the module globally with options from a factory, class or existing provider. */
  static override forRootAsync(
    options: typeof ASYNC_OPTIONS_TYPE,
  ): DynamicModule {
    // The factory, class, existing provider and inject list compare by identity.
    return memoised(madeForRootAsync, options, () =>
      super.forRootAsync(options),
    );
  }
}
