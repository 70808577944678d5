import { Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
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
import { RequestMetrics } from './recorder/request-metrics.js';
import { TransportHandlersBinder } from './transports/transport-handlers.binder.js';
import { PushgatewayPusher } from './push/pushgateway.pusher.js';
import { METRICS_SOURCE } from './scrape/metrics-source.js';
import { createMetricsSource } from './scrape/metrics-source.factory.js';
import type { ResolvedMetricsOptions } from './interfaces/metrics-module-options.interface.js';

/**
 * Prometheus metrics for the whole app. Import it once, in the root module:
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
      useFactory: (options: ResolvedMetricsOptions, registry: Registry) => {
        const metrics = new RequestMetrics(
          options.prefix,
          options.buckets,
          options.maxSeries,
        );
        if (options.enabled) metrics.register(registry);
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
    PushgatewayPusher,
    QueueMetricsLifecycle,
    MetricsServer,
  ],
  exports: [MetricsService, METRICS_REGISTRY, MetricsServer],
})
export class MetricsModule extends ConfigurableModuleClass {
  /** Registers the module globally with the given options (all optional). */
  static override forRoot(options: typeof OPTIONS_TYPE = {}) {
    return super.forRoot(options);
  }

  /** Registers the module globally with options from a factory, class or existing provider. */
  static override forRootAsync(options: typeof ASYNC_OPTIONS_TYPE) {
    return super.forRootAsync(options);
  }
}
