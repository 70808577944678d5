import {
  createServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { METRICS_RESOLVED_OPTIONS } from '../metrics.constants.js';
import { metricsPortFailedMessage } from '../metrics.messages.js';
import type { ResolvedMetricsOptions } from '../interfaces/metrics-module-options.interface.js';
import { MetricsEndpoint } from './metrics-endpoint.js';
import { SummaryEndpoint } from './summary-endpoint.js';
import { finishWithin, formatMs } from '../lifecycle/bounded-shutdown.js';

/** How long `close()` lets scrapes in flight on the metrics port finish before closing their connections. */
export const SCRAPE_DRAIN_MS = 3000;

/**
 * The dedicated metrics server of the `port` option: a plain Node HTTP server that serves only the
 * metrics path and the summary path (404 elsewhere, 405 for methods other than GET and HEAD). It listens once the app
 * has bootstrapped and closes with the app: `close()` stops listening at once, lets scrapes in
 * flight finish for up to `SCRAPE_DRAIN_MS`, then closes every connection left.
 */
@Injectable()
export class MetricsServer
  implements OnApplicationBootstrap, OnApplicationShutdown
{
  private readonly logger = new Logger('MetricsModule');
  private server: Server | undefined;
  private inFlight = 0;
  private closing: Server | undefined;

  constructor(
    private readonly endpoint: MetricsEndpoint,
    @Inject(METRICS_RESOLVED_OPTIONS)
    private readonly options: ResolvedMetricsOptions,
    private readonly summary: SummaryEndpoint,
  ) {}

  /** The port the metrics server listens on, or `undefined` when it is not listening. */
  get port(): number | undefined {
    return this.address()?.port;
  }

  /** The bound address of the metrics server, or `undefined` when it is not listening. */
  address(): AddressInfo | undefined {
    const address = this.server?.address();
    return address !== null && typeof address === 'object'
      ? address
      : undefined;
  }

  async onApplicationBootstrap(): Promise<void> {
    const { enabled, port, host } = this.options;
    if (!enabled || port === undefined || this.server !== undefined) return;
    const server = createServer((req, res) => this.serve(req, res));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    }).catch((error: NodeJS.ErrnoException) => {
      throw new Error(metricsPortFailedMessage(port, host, error), {
        cause: error,
      });
    });
    server.on('error', (error) =>
      this.logger.error('The metrics server failed', error.stack),
    );
    this.server = server;
    const bound = this.address();
    this.logger.log(
      `Serving ${this.options.path} on port ${bound?.port ?? port}`,
    );
  }

  async onApplicationShutdown(): Promise<void> {
    const server = this.server;
    if (server === undefined) return;
    this.server = undefined;
    this.closing = server;
    const closed = new Promise<void>((resolve) =>
      server.close(() => resolve()),
    );
    server.closeIdleConnections();
    const drained = await finishWithin(SCRAPE_DRAIN_MS, () => closed);
    if (drained) return;
    server.closeAllConnections();
    this.logger.warn(
      `Closed the metrics port with ${this.inFlight} scrape(s) still in progress after ${formatMs(SCRAPE_DRAIN_MS)}`,
    );
  }

  private serve(req: IncomingMessage, res: ServerResponse): void {
    this.inFlight += 1;
    res.once('close', () => {
      this.inFlight -= 1;
      // A keep-alive connection whose scrape ended during close() is not waited for.
      const closing = this.closing;
      if (closing) setImmediate(() => closing.closeIdleConnections());
    });
    if (this.summary.matches(req.url ?? '/')) {
      this.summary.handle(req, res).catch((error: unknown) => {
        this.logger.error(
          'Serving the summary failed',
          error instanceof Error ? error.stack : String(error),
        );
        if (!res.headersSent) reply(res, 500, 'metrics unavailable\n');
        else res.end();
      });
      return;
    }
    if (!this.isMetricsPath(req.url ?? '/')) {
      reply(res, 404, 'not found\n');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', 'GET, HEAD');
      reply(res, 405, 'method not allowed\n');
      return;
    }
    this.endpoint.handle(req, res).catch((error: unknown) => {
      this.logger.error(
        'Serving a scrape failed',
        error instanceof Error ? error.stack : String(error),
      );
      if (!res.headersSent) reply(res, 500, 'metrics unavailable\n');
      else res.end();
    });
  }

  private isMetricsPath(url: string): boolean {
    const query = url.indexOf('?');
    const path = query === -1 ? url : url.slice(0, query);
    return path === this.options.path || path === `${this.options.path}/`;
  }
}

function reply(res: ServerResponse, status: number, body: string): void {
  res.statusCode = status;
  res.setHeader('Content-Type', 'text/plain; charset=utf-8');
  res.setHeader('Content-Length', Buffer.byteLength(body));
  res.end(body);
}
