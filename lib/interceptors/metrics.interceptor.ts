import {
  Injectable,
  StreamableFile,
  type CallHandler,
  type ExecutionContext,
  type NestInterceptor,
} from '@nestjs/common';
import { Observable } from 'rxjs';
import { HandlerInstruments } from '../handler-instruments.js';
import { exchangeOf, type HttpExchange } from '../http/http-exchange.js';

/**
 * Registered globally by `MetricsModule`. It tells the HTTP recorder which exception a handler,
 * pipe or interceptor raised (for `error_type`), watches streamed bodies for failures, and times
 * @Timed/@Counted controller methods. Timing, bytes and status are taken at the HTTP server, so
 * requests this interceptor never sees (guards, middleware, 404) are measured all the same.
 *
 * Extend it and override the protected hooks to change what is recorded, then pass your class as
 * `MetricsModule.forRoot({ interceptor: MyInterceptor })`; the module registers it in place of this one.
 */
@Injectable()
export class MetricsInterceptor implements NestInterceptor {
  constructor(private readonly handlers: HandlerInstruments) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const instrument = this.handlers.get(context.getHandler());
    const exchange =
      context.getType() === 'http'
        ? exchangeOf(context.switchToHttp().getRequest())
        : undefined;
    if (instrument === undefined && exchange === undefined)
      return next.handle();
    const source = next.handle();
    return new Observable((subscriber) => {
      const startedAt = performance.now();
      return source.subscribe({
        next: (value) => {
          if (exchange !== undefined) this.onValue(exchange, value);
          subscriber.next(value);
        },
        error: (error: unknown) => {
          if (exchange !== undefined) this.onError(exchange, error, context);
          instrument?.record(startedAt, true, error);
          subscriber.error(error);
        },
        complete: () => {
          instrument?.record(startedAt, false, undefined);
          subscriber.complete();
        },
      });
    });
  }

  /** Keeps the exception that decides `error_type`. Override to unwrap errors of your own. */
  protected onError(
    exchange: HttpExchange,
    error: unknown,
    _context: ExecutionContext,
  ): void {
    exchange.error = error;
  }

  /** Watches a `StreamableFile` so that a failure after the headers counts as `response_stream`. */
  protected onValue(exchange: HttpExchange, value: unknown): void {
    if (value instanceof StreamableFile) {
      value.getStream().once('error', () => {
        exchange.streamFailed = true;
      });
    }
  }
}
