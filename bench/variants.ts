import {
  type CallHandler,
  type DynamicModule,
  type ExecutionContext,
  HttpException,
  type INestApplication,
  Injectable,
  Module,
  type NestInterceptor,
} from '@nestjs/common';
import { APP_INTERCEPTOR, NestFactory } from '@nestjs/core';
import type { Request, Response } from 'express';
import promBundle from 'express-prom-bundle';
import {
  InjectMetric,
  PrometheusModule,
  makeCounterProvider,
  makeHistogramProvider,
} from '@willsoto/nestjs-prometheus';
import type { MetricService } from 'nestjs-otel';
import type { Counter, Histogram } from 'prom-client';
import { type Observable, tap } from 'rxjs';
import { BenchController } from './app.js';
import { createCustomSeriesApp } from './custom-series.js';
import { exemplarVariants } from './exemplars.js';
import { loadDist, type Library } from './library.js';

/** One way of building the bench app; each runs in its own process. */
export interface Variant {
  readonly id: string;
  readonly label: string;
  /** Diagnostic variants explain where the cost goes; the budget ignores them. */
  readonly diagnostic: boolean;
  create(): Promise<INestApplication>;
}

/** The same buckets for every histogram, so the comparison is per-request work, not bucket count. */
const BUCKETS = [
  0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10,
];

async function createApp(metadata: {
  imports?: DynamicModule[];
  providers?: unknown[];
}): Promise<INestApplication> {
  @Module({
    imports: metadata.imports ?? [],
    controllers: [BenchController],
    providers: (metadata.providers ?? []) as never[],
  })
  class BenchModule {}
  return NestFactory.create(BenchModule, { logger: false });
}

/** A global interceptor that does nothing: the cost of Nest's interceptor pipeline alone. */
@Injectable()
class NoopInterceptor implements NestInterceptor {
  intercept(
    _context: ExecutionContext,
    next: CallHandler,
  ): Observable<unknown> {
    return next.handle();
  }
}

/** The interceptor most @willsoto/nestjs-prometheus users write: a counter and a histogram by route template. */
@Injectable()
class RouteMetricsInterceptor implements NestInterceptor {
  constructor(
    @InjectMetric('http_requests_total')
    private readonly requests: Counter<string>,
    @InjectMetric('http_request_duration_seconds')
    private readonly duration: Histogram<string>,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() !== 'http') return next.handle();
    const http = context.switchToHttp();
    const req = http.getRequest<Request>();
    const res = http.getResponse<Response>();
    const stopTimer = this.duration.startTimer();
    const record = (status: number): void => {
      const labels = {
        method: req.method,
        route: (req.route as { path?: string } | undefined)?.path ?? 'unknown',
        status: String(status),
      };
      this.requests.inc(labels);
      stopTimer(labels);
    };
    return next.handle().pipe(
      tap({
        next: () => record(res.statusCode),
        error: (error: unknown) =>
          record(error instanceof HttpException ? error.getStatus() : 500),
      }),
    );
  }
}

async function library(): Promise<Library> {
  return loadDist<Library>('index.js');
}

export const VARIANTS: readonly Variant[] = [
  {
    id: 'bare',
    label: 'bare Nest',
    diagnostic: false,
    create: () => createApp({}),
  },
  {
    id: 'metrics',
    label: 'nestjs-metrics',
    diagnostic: false,
    create: async () => {
      const { MetricsModule } = await library();
      return createApp({ imports: [MetricsModule.forRoot()] });
    },
  },
  {
    id: 'prom-bundle',
    label: 'express-prom-bundle',
    diagnostic: false,
    create: async () => {
      const app = await createApp({});
      app.use(
        promBundle({
          includeMethod: true,
          includePath: true,
          includeStatusCode: true,
          normalizePath: [['^/items/[^/]+$', '/items/#id']],
          buckets: BUCKETS,
          promClient: { collectDefaultMetrics: {} },
        }),
      );
      return app;
    },
  },
  {
    id: 'willsoto',
    label: '@willsoto/nestjs-prometheus',
    diagnostic: false,
    create: () =>
      createApp({
        imports: [PrometheusModule.register()],
        providers: [
          makeCounterProvider({
            name: 'http_requests_total',
            help: 'Requests handled, by method, route and status.',
            labelNames: ['method', 'route', 'status'],
          }),
          makeHistogramProvider({
            name: 'http_request_duration_seconds',
            help: 'Request duration in seconds, by method, route and status.',
            labelNames: ['method', 'route', 'status'],
            buckets: BUCKETS,
          }),
          { provide: APP_INTERCEPTOR, useClass: RouteMetricsInterceptor },
        ],
      }),
  },
  {
    id: 'otel',
    label: 'nestjs-otel',
    diagnostic: false,
    create: async () => {
      // Loaded only here: the SDK and nestjs-otel stay out of the other variants' processes.
      const otel = await import('nestjs-otel');
      const { OtelRouteMetricsInterceptor, registerMeterProvider } =
        await import('./otel.js');
      registerMeterProvider();
      return createApp({
        imports: [
          otel.OpenTelemetryModule.forRoot({ metrics: { hostMetrics: false } }),
        ],
        providers: [
          {
            provide: APP_INTERCEPTOR,
            useFactory: (metricService: MetricService) =>
              new OtelRouteMetricsInterceptor(metricService, BUCKETS),
            inject: [otel.MetricService],
          },
        ],
      });
    },
  },
  {
    id: 'bare-noop-interceptor',
    label: 'bare + no-op global interceptor',
    diagnostic: true,
    create: () =>
      createApp({
        providers: [{ provide: APP_INTERCEPTOR, useClass: NoopInterceptor }],
      }),
  },
  {
    id: 'metrics-noop-interceptor',
    label: 'nestjs-metrics, no-op interceptor',
    diagnostic: true,
    create: async () => {
      const { MetricsModule, MetricsInterceptor } = await library();
      // The module with the optional `interceptor` extra: what opting into a global interceptor costs.
      @Injectable()
      class PassThroughMetricsInterceptor extends MetricsInterceptor {
        override intercept(
          _context: ExecutionContext,
          next: CallHandler,
        ): Observable<unknown> {
          return next.handle();
        }
      }
      return createApp({
        imports: [
          MetricsModule.forRoot({
            interceptor: PassThroughMetricsInterceptor,
          }),
        ],
      });
    },
  },
  {
    id: 'metrics-no-default-metrics',
    label: 'nestjs-metrics, defaultMetrics: false',
    diagnostic: true,
    create: async () => {
      const { MetricsModule } = await library();
      return createApp({
        imports: [MetricsModule.forRoot({ defaultMetrics: false })],
      });
    },
  },
  ...exemplarVariants(async (exemplars) => {
    const { MetricsModule } = await library();
    return createApp({ imports: [MetricsModule.forRoot({ exemplars })] });
  }),
];

/** Variants of one scenario (the memory test), never in the load or instructions parts. */
export const SCENARIO_VARIANTS: readonly Variant[] = [
  {
    id: 'metrics-custom-series',
    label: 'nestjs-metrics + 10,000 custom series',
    diagnostic: false,
    create: createCustomSeriesApp,
  },
];

export function variantById(id: string): Variant {
  const variant = [...VARIANTS, ...SCENARIO_VARIANTS].find((v) => v.id === id);
  if (variant === undefined) {
    throw new Error(
      `unknown variant "${id}"; known: ${VARIANTS.map((v) => v.id).join(', ')}`,
    );
  }
  return variant;
}
