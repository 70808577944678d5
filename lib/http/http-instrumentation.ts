import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { TraceExemplars } from '../exemplars/trace-exemplars.js';
import { RecordingFailureLog } from '../recorder/recording-failure-log.js';
import type {
  RequestMetrics,
  RouteSeries,
} from '../recorder/request-metrics.js';
import type { RequestRecord } from '../recorder/request-record.js';
import type { ResolvedMetricsOptions } from '../interfaces/metrics-module-options.interface.js';
import {
  enterHandlerContext,
  type HandlerContext,
  handlerContextSwitch,
  NO_HANDLER,
  type HandlerContextSwitch,
  runInHandlerContext,
} from '../context/handler-context.js';
import { UNMATCHED_ROUTE } from '../metrics.constants.js';
import { httpErrorType } from './error-type.js';
import { methodLabel } from './http-method.js';
import {
  closeSlot,
  type ExchangeOwner,
  type ExchangeSlot,
  HttpExchange,
  openSlot,
} from './http-exchange.js';

/** Finds the route template a request matched, or `UNMATCHED`. */
export interface RouteResolver {
  resolve(req: IncomingMessage, exchange: HttpExchange): string;
}

/** Sent as `status` when the client went away before any status line was sent (as nginx logs it). */
export const CLIENT_CLOSED_STATUS = '499';

/**
 * Set on a Node server while an instrumentation of any copy of the library measures it. Only read
 * to refuse a second instrumentation: no wrapper finds its state through it.
 */
const MEASURED_BY = Symbol.for('nestjs-metrics:server-measured-by');

/** Who measures a server already, when someone does. */
export function measuredBy(server: Server): string | undefined {
  return (server as unknown as Record<symbol, string | undefined>)[MEASURED_BY];
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

interface Wrappers {
  onResponseClose(this: ServerResponse): void;
  countingPush: IncomingMessage['push'];
  countingWrite: ServerResponse['write'];
  countingEnd: ServerResponse['end'];
}

/**
 * Measures every request at the Node HTTP server, before the framework sees it: timing, bytes,
 * concurrency and how it ended are all taken here, so requests stopped by middleware, guards,
 * the body parser or the router are counted like any other.
 */
export class HttpInstrumentation implements ExchangeOwner {
  /** Where this instrumentation, and only it, keeps the exchange of each request. */
  readonly slot: ExchangeSlot = openSlot();
  private readonly seriesByMethod = new Map<string, Map<string, RouteSeries>>();
  private server: Server | undefined;
  private readonly failures = new RecordingFailureLog();
  /** Filled in and handed to the recorder by each `complete()`, which keeps none of it. */
  private readonly outcome: Mutable<RequestRecord> = {
    status: '',
    durationSeconds: 0,
    requestBytes: 0,
    responseBytes: 0,
    errorType: undefined,
  };
  private readonly wrappers: Wrappers = createWrappers(this.slot.key);
  /** False when body bytes cannot be counted through `req.push` (see `compat/node-http.ts`). */
  countRequestBytes = true;
  /** With `exemplars` on: reads the span active in the server's 'request' listeners. */
  private readonly exemplars: TraceExemplars | undefined;
  /** On once a metric of this app asks for `handlerLabels`. */
  private readonly handlerContext: HandlerContextSwitch;

  constructor(
    private readonly metrics: RequestMetrics,
    private readonly routes: RouteResolver,
    private readonly options: ResolvedMetricsOptions,
  ) {
    this.exemplars = metrics.exemplars;
    this.handlerContext = handlerContextSwitch(options);
  }

  /** Starts measuring `server`; `owner` names this instrumentation to a second one. */
  attach(server: Server, owner: string): void {
    const current = measuredBy(server);
    if (current !== undefined) {
      closeSlot(this.slot);
      throw new Error(
        `The app's HTTP server is measured already (${current}); one instrumentation per server.`,
      );
    }
    Object.defineProperty(server, MEASURED_BY, {
      value: owner,
      configurable: true,
    });
    this.server = server;
    this.metrics.declareTransport('http');
    server.prependListener('request', this.onRequest);
  }

  detach(): void {
    const server = this.server;
    closeSlot(this.slot);
    if (server === undefined) return;
    server.removeListener('request', this.onRequest);
    delete (server as unknown as Record<symbol, unknown>)[MEASURED_BY];
    this.server = undefined;
  }

  private readonly onRequest = (
    req: IncomingMessage,
    res: ServerResponse,
  ): void => {
    try {
      // Leaves what a previous request on this connection entered.
      const handlerContext = this.handlerContext.on;
      if (handlerContext) enterHandlerContext(undefined);
      const url = req.url ?? '/';
      const query = url.indexOf('?');
      const pathname = query === -1 ? url : url.slice(0, query);
      if (this.isUnmeasuredPath(pathname)) return;
      const exchange = new HttpExchange(
        this,
        performance.now(),
        pathname,
        req.push,
        res.write,
        res.end,
      );
      const wrappers = this.wrappers;
      const hasBody =
        this.countRequestBytes &&
        (req.headers['content-length'] !== undefined ||
          req.headers['transfer-encoding'] !== undefined);
      if (this.exemplars !== undefined)
        exchange.trace = this.exemplars.current();
      if (handlerContext) {
        exchange.handler = new HttpHandlerContext(this, req, exchange);
        // The framework's listener runs after this one, in what it enters here.
        enterHandlerContext(exchange.handler);
      }
      this.slot.attach(req, res, exchange, hasBody);
      if (hasBody) req.push = wrappers.countingPush;
      res.write = wrappers.countingWrite;
      res.end = wrappers.countingEnd;
      // 'close' follows 'finish' on every response, so one listener sees both endings.
      res.on('close', wrappers.onResponseClose);
      this.metrics.started('http');
    } catch (error) {
      this.failures.report(error);
    }
  };

  private isUnmeasuredPath(pathname: string): boolean {
    const { path, excludePaths } = this.options;
    return (
      pathname === path ||
      (pathname.length === path.length + 1 &&
        pathname.endsWith('/') &&
        pathname.startsWith(path)) ||
      excludePaths.has(pathname)
    );
  }

  /** Records the request once, when its response closed; `aborted` when it closed without finishing. */
  complete(res: ServerResponse, aborted: boolean): void {
    const exchange = this.slot.of(res);
    if (exchange === undefined || exchange.ended) return;
    exchange.ended = true;
    try {
      this.metrics.ended('http');
      const durationSeconds = (performance.now() - exchange.startedAt) / 1000;
      const req = res.req;
      const method = req.method ?? 'GET';
      const route = this.routes.resolve(req, exchange);
      if (this.options.excludePaths.has(route)) return;
      // The client left in the middle of its request: whatever the app answered went nowhere.
      const requestAbandoned = !req.complete && req.readableAborted;
      const clientClosed = requestAbandoned || (aborted && !res.headersSent);
      const sentStatus = clientClosed
        ? CLIENT_CLOSED_STATUS
        : statusLabel(res.statusCode);
      const noBody =
        method === 'HEAD' || res.statusCode === 204 || res.statusCode === 304;
      const endedAborted = aborted || requestAbandoned;
      const streamFailed =
        !requestAbandoned &&
        aborted &&
        res.headersSent &&
        (exchange.streamFailed || res.errored != null);
      const outcome = this.outcome;
      outcome.status = sentStatus;
      outcome.durationSeconds = durationSeconds;
      outcome.requestBytes = exchange.requestBytes;
      outcome.responseBytes = noBody ? 0 : exchange.responseBytes;
      // Most responses are a success that ended well: no error to classify. The status sent
      // decides; the exception only refines a status that alone is ambiguous (see error-type).
      outcome.errorType =
        res.statusCode < 400 && !endedAborted
          ? undefined
          : httpErrorType({
              status: res.statusCode,
              error: exchange.error,
              aborted: endedAborted,
              streamFailed,
            });
      const counted = this.metrics.record(
        this.series(methodLabel(method), route),
        outcome,
      );
      if (exchange.trace !== undefined)
        this.metrics.keepExemplar(counted, exchange.trace, durationSeconds);
    } catch (error) {
      this.failures.report(error);
    }
  }

  /**
   * The `route` label of a request still in progress, as the request families will record it (a
   * handler runs after routing, so the template is known).
   */
  routeInProgress(req: IncomingMessage, exchange: HttpExchange): string {
    const route = this.routes.resolve(req, exchange);
    if (route === UNMATCHED_ROUTE) return route;
    // An excluded template is not measured: its handler reads as none, like an excluded path.
    if (this.options.excludePaths.has(route)) return NO_HANDLER;
    return this.series(methodLabel(req.method), route).route;
  }

  private series(method: string, route: string): RouteSeries {
    let byRoute = this.seriesByMethod.get(method);
    if (byRoute === undefined) {
      byRoute = new Map();
      this.seriesByMethod.set(method, byRoute);
    }
    let series = byRoute.get(route);
    if (series === undefined) {
      series = this.metrics.route('http', method, route);
      byRoute.set(route, series);
    }
    return series;
  }
}

/**
 * The wrappers of one instrumentation, made once and shared by all its requests: they find their
 * exchange on `this` under the instrumentation's own key, so instrumenting a request allocates no
 * closures, and a wrapper only ever calls what was in place before it (another instrumentation's
 * wrapper included), never itself.
 */
function createWrappers(key: symbol): Wrappers {
  type Carrier = Record<symbol, HttpExchange>;

  function onResponseClose(this: ServerResponse): void {
    (this as unknown as Carrier)[key]?.owner.complete(
      this,
      !this.writableFinished,
    );
  }

  function countingPush(
    this: IncomingMessage,
    chunk: unknown,
    encoding?: BufferEncoding,
  ): boolean {
    const exchange = (this as unknown as Carrier)[key];
    if (chunk !== null && chunk !== undefined)
      exchange.requestBytes += byteLength(chunk, encoding);
    // The body's events, and the handler called from its 'end', belong to the request.
    if (exchange.handler !== undefined)
      return runInHandlerContext(exchange.handler, () =>
        exchange.push.call(this, chunk, encoding),
      );
    return exchange.push.call(this, chunk, encoding);
  }

  // Fixed parameters rather than rest and spread: no array is allocated per call. Node's write and
  // end read a missing argument and an undefined one alike.
  function countingWrite(
    this: ServerResponse,
    chunk: unknown,
    encoding?: unknown,
    callback?: unknown,
  ): boolean {
    const exchange = (this as unknown as Carrier)[key];
    if (chunk !== null && chunk !== undefined && !this.writableEnded) {
      exchange.responseBytes += byteLength(chunk, encoding);
    }
    return (exchange.write as (...args: unknown[]) => boolean).call(
      this,
      chunk,
      encoding,
      callback,
    );
  }

  function countingEnd(
    this: ServerResponse,
    chunk?: unknown,
    encoding?: unknown,
    callback?: unknown,
  ): ServerResponse {
    const exchange = (this as unknown as Carrier)[key];
    if (
      chunk !== null &&
      chunk !== undefined &&
      typeof chunk !== 'function' &&
      !this.writableEnded
    ) {
      exchange.responseBytes += byteLength(chunk, encoding);
    }
    return (exchange.end as (...args: unknown[]) => ServerResponse).call(
      this,
      chunk,
      encoding,
      callback,
    );
  }

  return {
    onResponseClose,
    countingPush,
    countingWrite: countingWrite as ServerResponse['write'],
    countingEnd: countingEnd as ServerResponse['end'],
  };
}

function byteLength(chunk: unknown, encoding: unknown): number {
  if (typeof chunk === 'string') {
    return Buffer.byteLength(
      chunk,
      typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8',
    );
  }
  return (chunk as { byteLength?: number }).byteLength ?? 0;
}

/** The handler context of one HTTP request: its route is resolved once the router matched it. */
class HttpHandlerContext implements HandlerContext {
  private matched: string | undefined;

  constructor(
    private readonly instrumentation: HttpInstrumentation,
    private readonly req: IncomingMessage,
    private readonly exchange: HttpExchange,
  ) {}

  get transport(): string {
    return this.route === NO_HANDLER ? NO_HANDLER : 'http';
  }

  get route(): string {
    if (this.matched !== undefined) return this.matched;
    const route = this.instrumentation.routeInProgress(this.req, this.exchange);
    if (route !== UNMATCHED_ROUTE) this.matched = route;
    return route;
  }
}

const STATUS_LABELS: string[] = [];

/** The `status` label of a status code, one string per code for the life of the process. */
function statusLabel(code: number): string {
  return (STATUS_LABELS[code] ??= String(code));
}
