import type { IncomingMessage, ServerResponse } from 'node:http';
import { Inject, Injectable, Logger } from '@nestjs/common';
import type { Registry } from 'prom-client';
import { METRICS_REGISTRY } from '../metrics.constants.js';
import {
  METRICS_SOURCE,
  type MetricsSource,
  MetricsUnavailableError,
} from './metrics-source.js';

/**
 * Answers a scrape on the raw Node request and response, so the same code serves the metrics
 * path on the app's own HTTP server (any adapter) and on the dedicated metrics port.
 */
@Injectable()
export class MetricsEndpoint {
  private readonly logger = new Logger('MetricsModule');

  constructor(
    @Inject(METRICS_REGISTRY) private readonly registry: Registry,
    @Inject(METRICS_SOURCE) private readonly source: MetricsSource,
  ) {}

  async handle(_req: IncomingMessage, res: ServerResponse): Promise<void> {
    let body: string;
    try {
      body = await this.source.metrics();
    } catch (error) {
      if (error instanceof MetricsUnavailableError) {
        send(res, 503, 'text/plain; charset=utf-8', `${error.message}\n`);
        return;
      }
      this.logger.error(
        'Rendering the metrics failed',
        error instanceof Error ? error.stack : String(error),
      );
      send(res, 500, 'text/plain; charset=utf-8', 'metrics unavailable\n');
      return;
    }
    send(res, 200, this.registry.contentType, body);
  }
}

function send(
  res: ServerResponse,
  status: number,
  contentType: string,
  body: string,
): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  res.statusCode = status;
  res.setHeader('Content-Type', contentType);
  res.setHeader('Cache-Control', 'no-store');
  res.setHeader('Content-Length', Buffer.byteLength(body));
  res.end(body);
}
