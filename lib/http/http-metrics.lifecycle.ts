import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
  type OnModuleInit,
} from '@nestjs/common';
import { HttpAdapterHost, ModulesContainer } from '@nestjs/core';
import { METRICS_RESOLVED_OPTIONS } from '../metrics.constants.js';
import { MetricsEndpoint } from '../scrape/metrics-endpoint.js';
import { RequestMetrics } from '../recorder/request-metrics.js';
import type { ResolvedMetricsOptions } from '../interfaces/metrics-module-options.interface.js';
import { isExpressApp } from '../compat/express.js';
import { requestPushCounts } from '../compat/node-http.js';
import { watchStreamedBodies } from './streamed-body-watch.js';
import { captureRouteExceptions } from './exception-capture.js';
import { ExpressRouteResolver } from './express-route-resolver.js';
import { FastifyRouteResolver } from './fastify-route-resolver.js';
import {
  instrumentFastify,
  serveOnFastify,
  type FastifyInstanceLike,
} from './fastify-integration.js';
import type { ExchangeSlot } from './http-exchange.js';
import {
  HttpInstrumentation,
  type RouteResolver,
} from './http-instrumentation.js';
import { claimApp } from './one-instrumentation-per-app.js';

/** Methods a Fastify route template is looked up under, for the `excludePaths` check. */
const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];

/** Attaches the HTTP instrumentation and serves the metrics path once the app's routes exist. */
@Injectable()
export class HttpMetricsLifecycle
  implements OnModuleInit, OnApplicationBootstrap, OnApplicationShutdown
{
  private readonly logger = new Logger('MetricsModule');
  private instrumentation: HttpInstrumentation | undefined;
  private expressRoutes: ExpressRouteResolver | undefined;
  private fastify: FastifyInstanceLike | undefined;
  /** Where the metrics path is served, once known: logged at bootstrap. */
  private served: string | undefined;

  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly metrics: RequestMetrics,
    private readonly endpoint: MetricsEndpoint,
    @Inject(METRICS_RESOLVED_OPTIONS)
    private readonly options: ResolvedMetricsOptions,
    private readonly modules: ModulesContainer,
  ) {}

  // Runs after Nest registered the routes and before its 404 and error handlers, so both the
  // metrics route and the error hook below sit in front of them.
  async onModuleInit(): Promise<void> {
    claimApp(this.modules, HttpMetricsLifecycle);
    const adapter = this.adapterHost?.httpAdapter;
    if (!this.options.enabled || !adapter) return;
    const app = adapter.getInstance();
    const server = adapter.getHttpServer() as Server;
    const handle = (req: IncomingMessage, res: ServerResponse) =>
      this.endpoint.handle(req, res);
    const { path } = this.options;
    // With `port`, the dedicated metrics server serves the path and the app's server does not.
    const servesPath = this.options.port === undefined;
    if (isExpressApp(app)) {
      this.expressRoutes = new ExpressRouteResolver(app);
      this.expressRoutes.rememberAppRoutes();
      const slot = await this.attach(server, this.expressRoutes);
      watchStreamedBodies(slot, adapter);
      app.use(keepBodyParserError(slot));
      if (servesPath) {
        // Express's own matching decides: a parameterised or catch-all route can take the path too.
        if (this.expressRoutes.matchesAppRoute('GET', path))
          this.warnPathTaken();
        else this.serve(() => adapter.get(path, handle));
      }
    } else if (FastifyRouteResolver.supports(app)) {
      const instance = app as FastifyInstanceLike;
      this.fastify = instance;
      const slot = await this.attach(server, new FastifyRouteResolver());
      watchStreamedBodies(slot, adapter);
      instrumentFastify(slot, adapter, instance);
      if (servesPath) {
        if (instance.hasRoute({ method: 'GET', url: path }))
          this.warnPathTaken();
        else this.serve(() => serveOnFastify(instance, path, handle));
      }
    } else {
      this.logger.warn(
        `HTTP requests are not measured: the ${adapter.constructor.name} adapter is not supported (use @nestjs/platform-express or @nestjs/platform-fastify).`,
      );
      if (servesPath) this.serve(() => adapter.get(path, handle));
    }
  }

  private serve(register: () => void): void {
    register();
    this.served = this.options.path;
  }

  private warnPathTaken(): void {
    this.logger.warn(
      `The metrics path ${this.options.path} is not served: the app has a GET route there.`,
    );
  }

  private async attach(
    server: Server,
    routes: RouteResolver,
  ): Promise<ExchangeSlot> {
    const instrumentation = new HttpInstrumentation(
      this.metrics,
      routes,
      this.options,
    );
    instrumentation.countRequestBytes = await requestPushCounts();
    instrumentation.attach(server, 'nestjs-metrics MetricsModule');
    this.instrumentation = instrumentation;
    await captureRouteExceptions();
    return instrumentation.slot;
  }

  // Nest adds its 404 handlers (some of them routes) between onModuleInit and here.
  onApplicationBootstrap(): void {
    this.expressRoutes?.rememberNotFoundRoutes();
    if (this.instrumentation !== undefined) this.checkExcludePaths();
    if (this.served !== undefined)
      this.logger.log(`Serving ${this.served} on the app's HTTP server`);
  }

  /** Warns for each `excludePaths` entry that is no route template of the app. */
  private checkExcludePaths(): void {
    const { excludePaths, path } = this.options;
    if (excludePaths.size === 0) return;
    let isTemplate: ((entry: string) => boolean) | undefined;
    const express = this.expressRoutes;
    const fastify = this.fastify;
    if (express !== undefined && express.readable) {
      const templates = new Set(express.appTemplates());
      isTemplate = (entry) => templates.has(entry);
    } else if (fastify !== undefined) {
      isTemplate = (entry) =>
        METHODS.some((method) => {
          try {
            return fastify.hasRoute({ method, url: entry });
          } catch {
            return false;
          }
        });
    }
    if (isTemplate === undefined) return;
    for (const entry of excludePaths) {
      if (entry === path || isTemplate(entry)) continue;
      // A plain path still excludes requests for exactly that path; a template excludes nothing.
      const effect = /[:*]/.test(entry)
        ? 'so it excludes nothing'
        : `so it only excludes requests whose path is exactly ${entry}, and no route`;
      this.logger.warn(
        `excludePaths entry ${entry} matches no route of the app, ${effect}: give route templates as the route label shows them, with the global prefix and version (e.g. /api/v1/health, /users/:id).`,
      );
    }
  }

  onApplicationShutdown(): void {
    this.instrumentation?.detach();
  }
}

/** Express error middleware: keeps errors raised before routing (the body parser's) for `error_type`. */
function keepBodyParserError(slot: ExchangeSlot) {
  return function keepBodyParserError(
    error: unknown,
    _req: IncomingMessage,
    res: ServerResponse,
    next: (error: unknown) => void,
  ): void {
    const exchange = slot.of(res);
    if (exchange !== undefined && exchange.error === undefined)
      exchange.error = error;
    next(error);
  };
}
