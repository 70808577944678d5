import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
  type OnModuleInit,
} from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { Registry } from 'prom-client';
import {
  METRICS_REGISTRY,
  METRICS_RESOLVED_OPTIONS,
} from '../metrics.constants.js';
import { RequestMetrics } from '../recorder/request-metrics.js';
import type { ResolvedMetricsOptions } from '../interfaces/metrics-module-options.interface.js';
import { ExpressRouteResolver } from './express-route-resolver.js';
import { exchangeOfRequest } from './http-exchange.js';
import { HttpInstrumentation } from './http-instrumentation.js';

/** Attaches the HTTP instrumentation and serves the metrics path once the app's routes exist. */
@Injectable()
export class HttpMetricsLifecycle
  implements OnModuleInit, OnApplicationBootstrap, OnApplicationShutdown
{
  private readonly logger = new Logger('MetricsModule');
  private instrumentation: HttpInstrumentation | undefined;
  private routes: ExpressRouteResolver | undefined;

  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly metrics: RequestMetrics,
    @Inject(METRICS_REGISTRY) private readonly registry: Registry,
    @Inject(METRICS_RESOLVED_OPTIONS)
    private readonly options: ResolvedMetricsOptions,
  ) {}

  // Runs after Nest registered the routes and before its 404 and error handlers, so both the
  // metrics route and the error hook below sit in front of them.
  onModuleInit(): void {
    const adapter = this.adapterHost?.httpAdapter;
    if (!this.options.enabled || !adapter) return;
    const app = adapter.getInstance();
    if (ExpressRouteResolver.supports(app)) {
      this.routes = new ExpressRouteResolver(app);
      this.routes.rememberAppRoutes();
      this.instrumentation = new HttpInstrumentation(
        this.metrics,
        this.routes,
        this.options,
      );
      this.instrumentation.attach(adapter.getHttpServer() as Server);
      app.use(keepBodyParserError);
    } else {
      this.logger.warn(
        `HTTP requests are not measured: the ${adapter.constructor.name} adapter is not supported (use @nestjs/platform-express).`,
      );
    }
    adapter.get(this.options.path, (_req: unknown, res: unknown) =>
      this.serve(adapter, res),
    );
  }

  // Nest adds its 404 handlers (some of them routes) between onModuleInit and here.
  onApplicationBootstrap(): void {
    this.routes?.rememberNotFoundRoutes();
  }

  onApplicationShutdown(): void {
    this.instrumentation?.detach();
  }

  private async serve(
    adapter: NonNullable<HttpAdapterHost['httpAdapter']>,
    res: unknown,
  ): Promise<void> {
    try {
      const body = await this.registry.metrics();
      adapter.setHeader(res, 'Content-Type', this.registry.contentType);
      adapter.setHeader(res, 'Cache-Control', 'no-store');
      adapter.reply(res, body, 200);
    } catch (error) {
      this.logger.error(
        'Rendering the metrics failed',
        error instanceof Error ? error.stack : String(error),
      );
      adapter.setHeader(res, 'Content-Type', 'text/plain; charset=utf-8');
      adapter.reply(res, 'metrics unavailable\n', 500);
    }
  }
}

/** Express error middleware: keeps errors raised before routing (the body parser's) for `error_type`. */
function keepBodyParserError(
  error: unknown,
  req: IncomingMessage,
  _res: ServerResponse,
  next: (error: unknown) => void,
): void {
  const exchange = exchangeOfRequest(req);
  if (exchange !== undefined && exchange.error === undefined)
    exchange.error = error;
  next(error);
}
