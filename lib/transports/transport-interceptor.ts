import {
  type CallHandler,
  type ExecutionContext,
  type NestInterceptor,
} from '@nestjs/common';
import { RecordingFailureLog } from '../recorder/recording-failure-log.js';
import { Observable } from 'rxjs';
import type {
  RequestMetrics,
  RouteSeries,
} from '../recorder/request-metrics.js';
import type { ErrorType } from '../recorder/request-record.js';
import { patternRoute } from './pattern-route.js';
import { payloadBytes } from '../recorder/payload-bytes.js';
import { transportErrorType } from './transport-error-type.js';
import {
  type HandlerContextSwitch,
  runInHandlerContext,
} from '../context/handler-context.js';

/** A measured message handler: its transport, and its series resolved at bootstrap. */
export interface MeasuredHandler {
  readonly transport: 'rpc' | 'ws';
  /** `event` handlers send no reply, so their replies are not counted. */
  readonly countsReplies: boolean;
  /** The series of its first (usually only) pattern. */
  readonly series: RouteSeries;
  /** Every pattern's series by route, for a handler with several patterns; otherwise undefined. */
  readonly seriesByRoute: ReadonlyMap<string, RouteSeries> | undefined;
}

/**
 * Measures microservice (`rpc`) and gateway (`ws`) handlers. The binder names this class at the
 * head of each handler class's interceptor metadata and makes Nest resolve it, in that class's
 * module, to this app's instance, so it runs for every message of those handlers whatever app
 * config they were registered with; anything else passes through. An app without the metrics
 * module that shares such a class gets an instance of its own from Nest, which measures nothing.
 */
export class TransportInterceptor implements NestInterceptor {
  private readonly handlers = new WeakMap<object, MeasuredHandler>();
  private readonly failures = new RecordingFailureLog();

  constructor(
    private readonly metrics?: RequestMetrics,
    /** On once a metric of this app asks for `handlerLabels`. */
    private readonly handlerContext?: HandlerContextSwitch,
  ) {}

  /** Measures `handler` (the method function Nest calls) from now on. */
  measure(handler: object, measured: MeasuredHandler): void {
    this.handlers.set(handler, measured);
  }

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const handler = this.handlers.get(context.getHandler());
    const metrics = this.metrics;
    if (
      handler === undefined ||
      metrics === undefined ||
      context.getType() !== handler.transport
    )
      return next.handle();
    if (this.handlerContext?.on === true)
      return this.inHandlerContext(context, next, handler);
    return this.measured(context, next.handle(), handler, metrics);
  }

  /**
   * Calls and subscribes the handler inside its handler context: Nest binds the handler's call to
   * the context `handle()` is called in, and an Observable's timers to the one it is subscribed in.
   */
  private inHandlerContext(
    context: ExecutionContext,
    next: CallHandler,
    handler: MeasuredHandler,
  ): Observable<unknown> {
    const series =
      handler.seriesByRoute === undefined
        ? handler.series
        : this.matchedSeries(handler, context);
    const entered = { transport: handler.transport, route: series.route };
    const measured = runInHandlerContext(entered, () =>
      this.measured(context, next.handle(), handler, this.metrics!),
    );
    return new Observable((subscriber) =>
      runInHandlerContext(entered, () => measured.subscribe(subscriber)),
    );
  }

  private measured(
    context: ExecutionContext,
    source: Observable<unknown>,
    handler: MeasuredHandler,
    metrics: RequestMetrics,
  ): Observable<unknown> {
    return new Observable((subscriber) => {
      const startedAt = performance.now();
      let series = handler.series;
      let requestBytes = 0;
      let responseBytes = 0;
      let ended = false;
      try {
        metrics.started(handler.transport);
        if (handler.seriesByRoute !== undefined)
          series = this.matchedSeries(handler, context);
        requestBytes = payloadBytes(dataOf(context, handler.transport), 'raw');
      } catch (error) {
        this.failures.report(error);
      }
      const end = (errorType: ErrorType | undefined) => {
        if (ended) return;
        ended = true;
        try {
          metrics.ended(handler.transport);
          metrics.record(series, {
            status: errorType === undefined ? 'ok' : 'error',
            durationSeconds: (performance.now() - startedAt) / 1000,
            requestBytes,
            responseBytes,
            errorType,
          });
        } catch (error) {
          this.failures.report(error);
        }
      };
      const subscription = source.subscribe({
        next: (value) => {
          if (handler.countsReplies && !ended) {
            try {
              // A gateway sends no frame for a nil result.
              if (handler.transport === 'rpc' || value != null)
                responseBytes += payloadBytes(value, 'raw');
            } catch (error) {
              this.failures.report(error);
            }
          }
          subscriber.next(value);
        },
        error: (error: unknown) => {
          end(transportErrorType(error));
          subscriber.error(error);
        },
        complete: () => {
          end(undefined);
          subscriber.complete();
        },
      });
      return () => {
        subscription.unsubscribe();
        // Cancelled before it ended: the client went away, or an outer operator (a global
        // timeout interceptor) stopped the stream.
        end('aborted');
      };
    });
  }

  /** The pattern a multi-pattern handler was called for, read from the transport's context. */
  private matchedSeries(
    handler: MeasuredHandler,
    context: ExecutionContext,
  ): RouteSeries {
    const received = receivedPattern(context);
    if (received === undefined) return handler.series;
    const byRoute = handler.seriesByRoute!;
    let found = byRoute.get(received);
    if (found === undefined && received.startsWith('{')) {
      try {
        found = byRoute.get(patternRoute(JSON.parse(received)));
      } catch {
        // not JSON: no other pattern to try
      }
    }
    return found ?? handler.series;
  }
}

function dataOf(context: ExecutionContext, transport: 'rpc' | 'ws'): unknown {
  return transport === 'rpc'
    ? context.switchToRpc().getData()
    : context.switchToWs().getData();
}

/** TCP/RMQ `getPattern()`, NATS `getSubject()`, Redis `getChannel()`, MQTT/Kafka `getTopic()`. */
function receivedPattern(context: ExecutionContext): string | undefined {
  const rpcContext = context.switchToRpc().getContext() as Record<
    string,
    unknown
  > | null;
  if (rpcContext === null || typeof rpcContext !== 'object') return undefined;
  for (const getter of ['getPattern', 'getSubject', 'getChannel', 'getTopic']) {
    const read = rpcContext[getter];
    if (typeof read === 'function') {
      const value: unknown = read.call(rpcContext);
      return typeof value === 'string' ? value : patternRoute(value);
    }
  }
  return undefined;
}
