import type { IncomingMessage, ServerResponse } from 'node:http';
import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost, ModuleRef } from '@nestjs/core';
import { METRICS_RESOLVED_OPTIONS } from '../metrics.constants.js';
import type { ResolvedMetricsOptions } from '../interfaces/metrics-module-options.interface.js';
import { isExpressApp } from '../compat/express.js';
import { ExpressRouteResolver } from '../http/express-route-resolver.js';
import {
  serveOnFastify,
  type FastifyInstanceLike,
} from '../http/fastify-integration.js';
import { FastifyRouteResolver } from '../http/fastify-route-resolver.js';
import { SummaryEndpoint } from './summary-endpoint.js';

/**
 * Serves the summary path on the app's own HTTP server (Express or Fastify), unless `port` moves
 * it to the metrics server, `summary` is `false` or `enabled` is `false`. Its few dependencies
 * make Nest run its `onModuleInit` before the HTTP instrumentation's, so on Express the route
 * counts among the app's routes (the summary path is not measured, like the metrics path). It
 * logs nothing: the start-up line names where the metrics path is served, and the summary path
 * is derived from it unless `summary.path` says otherwise.
 */
@Injectable()
export class SummaryRoute implements OnModuleInit {
  private readonly logger = new Logger('MetricsModule');
  private endpoint: SummaryEndpoint | undefined;

  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly moduleRef: ModuleRef,
    @Inject(METRICS_RESOLVED_OPTIONS)
    private readonly options: ResolvedMetricsOptions,
  ) {}

  onModuleInit(): void {
    const { enabled, summary, port } = this.options;
    const adapter = this.adapterHost?.httpAdapter;
    if (!enabled || summary === undefined || port !== undefined || !adapter)
      return;
    const path = summary.path;
    const handle = (req: IncomingMessage, res: ServerResponse) =>
      this.summaryEndpoint().handle(req, res);
    const app = adapter.getInstance();
    if (isExpressApp(app)) {
      const routes = new ExpressRouteResolver(app);
      routes.rememberAppRoutes();
      if (routes.matchesAppRoute('GET', path)) return this.warnPathTaken(path);
      adapter.get(path, handle);
    } else if (FastifyRouteResolver.supports(app)) {
      const instance = app as FastifyInstanceLike;
      if (instance.hasRoute({ method: 'GET', url: path }))
        return this.warnPathTaken(path);
      serveOnFastify(instance, path, handle);
    } else {
      adapter.get(path, handle);
    }
  }

  private summaryEndpoint(): SummaryEndpoint {
    const endpoint =
      this.endpoint ?? this.moduleRef.get(SummaryEndpoint, { strict: true });
    if (endpoint === undefined)
      throw new Error('The summary endpoint is not provided');
    this.endpoint = endpoint;
    return endpoint;
  }

  private warnPathTaken(path: string): void {
    this.logger.warn(
      `The summary path ${path} is not served: the app has a GET route there.`,
    );
  }
}
