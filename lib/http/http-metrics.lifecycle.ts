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
import { METRICS_RESOLVED_OPTIONS } from '../metrics.constants.js';
import { MetricsEndpoint } from '../scrape/metrics-endpoint.js';
import { RequestMetrics } from '../recorder/request-metrics.js';
import type { ResolvedMetricsOptions } from '../interfaces/metrics-module-options.interface.js';
import { watchStreamedBodies } from './streamed-body-watch.js';
import { captureRouteExceptions } from './exception-capture.js';
import { ExpressRouteResolver } from './express-route-resolver.js';
import { FastifyRouteResolver } from './fastify-route-resolver.js';
import {
  instrumentFastify,
  serveOnFastify,
  type FastifyAdapterLike,
} from './fastify-integration.js';
import { exchangeOfResponse } from './http-exchange.js';
import {
  HttpInstrumentation,
  type RouteResolver,
} from './http-instrumentation.js';

/** Attaches the HTTP instrumentation and serves the metrics path once the app's routes exist. */
@Injectable()
export class HttpMetricsLifecycle
  implements OnModuleInit, OnApplicationBootstrap, OnApplicationShutdown
{
  private readonly logger = new Logger('MetricsModule');
  private instrumentation: HttpInstrumentation | undefined;
  private expressRoutes: ExpressRouteResolver | undefined;

  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly metrics: RequestMetrics,
    private readonly endpoint: MetricsEndpoint,
    @Inject(METRICS_RESOLVED_OPTIONS)
    private readonly options: ResolvedMetricsOptions,
  ) {}

  // Runs after Nest registered the routes and before its 404 and error handlers, so both the
  // metrics route and the error hook below sit in front of them.
  onModuleInit(): void {
    const adapter = this.adapterHost?.httpAdapter;
    if (!this.options.enabled || !adapter) return;
    const app = adapter.getInstance();
    const server = adapter.getHttpServer() as Server;
    const handle = (req: IncomingMessage, res: ServerResponse) =>
      this.endpoint.handle(req, res);
    // With `port`, the dedicated metrics server serves the path and the app's server does not.
    const servesPath = this.options.port === undefined;
    if (ExpressRouteResolver.supports(app)) {
      this.expressRoutes = new ExpressRouteResolver(app);
      this.expressRoutes.rememberAppRoutes();
      this.attach(server, this.expressRoutes);
      watchStreamedBodies(adapter);
      app.use(keepBodyParserError);
      if (servesPath) adapter.get(this.options.path, handle);
    } else if (FastifyRouteResolver.supports(app)) {
      this.attach(server, new FastifyRouteResolver());
      watchStreamedBodies(adapter);
      instrumentFastify(adapter as unknown as FastifyAdapterLike, app);
      if (servesPath)
        serveOnFastify(app, this.options.path, handle, this.logger);
    } else {
      this.logger.warn(
        `HTTP requests are not measured: the ${adapter.constructor.name} adapter is not supported (use @nestjs/platform-express or @nestjs/platform-fastify).`,
      );
      if (servesPath) adapter.get(this.options.path, handle);
    }
  }

  private attach(server: Server, routes: RouteResolver): void {
    this.instrumentation = new HttpInstrumentation(
      this.metrics,
      routes,
      this.options,
    );
    this.instrumentation.attach(server);
    captureRouteExceptions();
  }

  // Nest adds its 404 handlers (some of them routes) between onModuleInit and here.
  onApplicationBootstrap(): void {
    this.expressRoutes?.rememberNotFoundRoutes();
  }

  onApplicationShutdown(): void {
    this.instrumentation?.detach();
  }
}

/** Express error middleware: keeps errors raised before routing (the body parser's) for `error_type`. */
function keepBodyParserError(
  error: unknown,
  _req: IncomingMessage,
  res: ServerResponse,
  next: (error: unknown) => void,
): void {
  const exchange = exchangeOfResponse(res);
  if (exchange !== undefined && exchange.error === undefined)
    exchange.error = error;
  next(error);
}
