import type { IncomingMessage, ServerResponse } from 'node:http';
import { promisify } from 'node:util';
import { constants, gzip, type ZlibOptions } from 'node:zlib';
import { Inject, Injectable, Logger } from '@nestjs/common';
import type { Registry } from 'prom-client';
import {
  METRICS_REGISTRY,
  METRICS_RESOLVED_OPTIONS,
} from '../metrics.constants.js';
import type { ResolvedMetricsOptions } from '../interfaces/metrics-module-options.interface.js';
import { acceptsGzip } from './content-encoding.js';
import { negotiateFormat } from './exposition-format.js';
import {
  METRICS_SOURCE,
  type MetricsSource,
  MetricsUnavailableError,
} from './metrics-source.js';
import { EventLoopSlice } from './event-loop-slice.js';
import { renderExpositionChunks } from './render-exposition.js';
import type { ScrapeAuth } from './scrape-auth.js';

// zlib's callback API runs on the libuv thread pool: compressing never blocks the event loop.
const gzipAsync = promisify<Buffer, ZlibOptions, Buffer>(gzip);

/**
 * Exposition text is so repetitive that zlib's fastest level compresses it nearly as well as the
 * default (about 18:1 against 19:1) for a quarter of the CPU.
 */
const GZIP_OPTIONS: ZlibOptions = { level: constants.Z_BEST_SPEED };

const TEXT = 'text/plain; charset=utf-8';
/** Content type of the Prometheus text format 0.0.4, which a cluster total is always rendered in. */
const PROMETHEUS_TEXT = 'text/plain; version=0.0.4; charset=utf-8';

/**
 * Answers a scrape on the raw Node request and response, so the same code serves the metrics
 * path on the app's own HTTP server (any adapter) and on the dedicated metrics port.
 *
 * In order: only GET and HEAD are served (405 otherwise); with `auth`, the credentials are
 * checked (401 with a challenge when refused, 500 when an auth function fails); then the body
 * is rendered in the format the `Accept` header prefers (OpenMetrics 1.0.0 or the Prometheus
 * text format 0.0.4) and gzipped when `Accept-Encoding` allows it.
 */
@Injectable()
export class MetricsEndpoint {
  private readonly logger = new Logger('MetricsModule');
  private readonly auth: ScrapeAuth | undefined;

  constructor(
    @Inject(METRICS_REGISTRY) private readonly registry: Registry,
    @Inject(METRICS_RESOLVED_OPTIONS) options: ResolvedMetricsOptions,
    @Inject(METRICS_SOURCE) private readonly source: MetricsSource,
  ) {
    this.auth = options.auth;
  }

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      send(
        res,
        405,
        { 'Content-Type': TEXT, Allow: 'GET, HEAD' },
        'method not allowed\n',
      );
      return;
    }
    if (this.auth && !(await this.authorized(this.auth, req, res))) return;

    const format = negotiateFormat(req.headers.accept);
    const compress = acceptsGzip(req.headers['accept-encoding']);
    let body: Buffer;
    let contentType: string;
    try {
      // The module's own registry renders either format; a cluster total is plain text.
      const rendered =
        this.source === this.registry
          ? await renderExpositionChunks(this.registry, format)
          : {
              chunks: [await this.source.metrics()],
              contentType: PROMETHEUS_TEXT,
            };
      contentType = rendered.contentType;
      body = await scrapeBody(rendered.chunks, compress);
    } catch (error) {
      if (error instanceof MetricsUnavailableError) {
        send(res, 503, { 'Content-Type': TEXT }, `${error.message}\n`);
        return;
      }
      this.logger.error(
        'Rendering the metrics failed',
        error instanceof Error ? error.stack : String(error),
      );
      send(res, 500, { 'Content-Type': TEXT }, 'metrics unavailable\n');
      return;
    }
    appendVary(res, 'Accept, Accept-Encoding');
    send(
      res,
      200,
      {
        'Content-Type': contentType,
        ...(compress ? { 'Content-Encoding': 'gzip' } : {}),
      },
      body,
    );
  }

  /**
   * Sends the refusal itself and returns false when the scrape may not proceed; the summary
   * path (`SummaryEndpoint`) checks its requests with it too.
   */
  async authorized(
    auth: ScrapeAuth,
    req: IncomingMessage,
    res: ServerResponse,
  ): Promise<boolean> {
    let allowed: boolean;
    try {
      allowed = await auth.allows(req);
    } catch (error) {
      // The message is left out: a check that failed may have put the credentials in it.
      this.logger.error(
        `The metrics auth function failed (${kindOfError(error)}); the scrape was answered with 500`,
      );
      send(res, 500, { 'Content-Type': TEXT }, 'metrics unavailable\n');
      return false;
    }
    if (!allowed) {
      send(
        res,
        401,
        { 'Content-Type': TEXT, 'WWW-Authenticate': auth.challenge },
        'unauthorized\n',
      );
    }
    return allowed;
  }
}

/** The chunks as one UTF-8 buffer, encoded a slice at a time so a large body does not block. */
/**
 * The body of a scrape: the rendered chunks as one UTF-8 buffer, encoded a slice at a time so a
 * large registry does not hold the event loop, and gzipped when `compress`.
 */
export async function scrapeBody(
  chunks: readonly string[],
  compress: boolean,
): Promise<Buffer> {
  const slice = new EventLoopSlice();
  const buffers: Buffer[] = [];
  for (const chunk of chunks) {
    buffers.push(Buffer.from(chunk, 'utf8'));
    if (slice.due) await slice.giveWay();
  }
  const text = Buffer.concat(buffers);
  return compress ? gzipAsync(text, GZIP_OPTIONS) : text;
}

function kindOfError(error: unknown): string {
  if (error instanceof Error) return error.constructor?.name ?? 'Error';
  return `a thrown ${error === null ? 'null' : typeof error}`;
}

function appendVary(res: ServerResponse, fields: string): void {
  const existing = res.getHeader('Vary');
  const current = Array.isArray(existing) ? existing.join(', ') : existing;
  res.setHeader('Vary', current ? `${current}, ${fields}` : fields);
}

/** Answers with `body`, never cached; a response already under way is only ended. */
export function send(
  res: ServerResponse,
  status: number,
  headers: Record<string, string>,
  body: string | Buffer,
): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  res.statusCode = status;
  for (const [name, value] of Object.entries(headers))
    res.setHeader(name, value);
  res.setHeader('Cache-Control', 'no-store');
  res.setHeader('Content-Length', Buffer.byteLength(body));
  res.end(body);
}
