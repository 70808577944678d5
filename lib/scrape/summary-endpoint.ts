import type { IncomingMessage, ServerResponse } from 'node:http';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { METRICS_RESOLVED_OPTIONS } from '../metrics.constants.js';
import type { ResolvedMetricsOptions } from '../interfaces/metrics-module-options.interface.js';
import { MetricsSummaryReader } from '../summary/metrics-summary.reader.js';
import { MetricsEndpoint, send } from './metrics-endpoint.js';

const JSON_TYPE = 'application/json; charset=utf-8';
const TEXT = 'text/plain; charset=utf-8';

/**
 * Answers `GET <summary.path>` with `MetricsService.summary()` as JSON, and `?full=1` with
 * `snapshot()`, on the raw Node request and response (the app's server or the metrics port).
 * Only GET and HEAD (405 otherwise), behind the same `auth` as the metrics path.
 */
@Injectable()
export class SummaryEndpoint {
  private readonly logger = new Logger('MetricsModule');

  constructor(
    private readonly reader: MetricsSummaryReader,
    private readonly metricsEndpoint: MetricsEndpoint,
    @Inject(METRICS_RESOLVED_OPTIONS)
    private readonly options: ResolvedMetricsOptions,
  ) {}

  /** The summary path, or `undefined` when it is not served (`summary: false`, `enabled: false`). */
  get path(): string | undefined {
    return this.options.enabled ? this.options.summary?.path : undefined;
  }

  /** Whether `url` (with its query) asks for the summary path. */
  matches(url: string): boolean {
    const path = this.path;
    if (path === undefined) return false;
    const query = url.indexOf('?');
    const pathname = query === -1 ? url : url.slice(0, query);
    return pathname === path || pathname === `${path}/`;
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
    const auth = this.options.auth;
    if (auth && !(await this.metricsEndpoint.authorized(auth, req, res)))
      return;
    let body: string;
    try {
      const reading = wantsFull(req.url ?? '/')
        ? await this.reader.snapshot()
        : await this.reader.summary();
      body = `${JSON.stringify(reading, null, 2)}\n`;
    } catch (error) {
      this.logger.error(
        'Reading the metrics summary failed',
        error instanceof Error ? error.stack : String(error),
      );
      send(res, 500, { 'Content-Type': TEXT }, 'metrics unavailable\n');
      return;
    }
    send(res, 200, { 'Content-Type': JSON_TYPE }, body);
  }
}

/** `?full=1` (or `full=true`, `full` alone) asks for the snapshot. */
function wantsFull(url: string): boolean {
  const query = url.indexOf('?');
  if (query === -1) return false;
  const full = new URLSearchParams(url.slice(query + 1)).get('full');
  return full === '1' || full === 'true' || full === '';
}
