import {
  Injectable,
  type CallHandler,
  type ExecutionContext,
  type NestInterceptor,
} from '@nestjs/common';
import { Observable } from 'rxjs';
import { exchangeOf, type ExchangeOutcome } from '../http/http-exchange.js';

/**
 * An optional global interceptor for apps that want a say in how exceptions are recorded.
 * `MetricsModule` measures HTTP without it: timing, bytes and status are taken at the HTTP
 * server and the exception that decided a response is noted on its way to Nest's exception
 * handling. Register a subclass with `MetricsModule.forRoot({ interceptor: MyInterceptor })` and
 * override the protected hooks, e.g. to unwrap errors of your own before `error_type` is chosen.
 * It costs what any global interceptor costs per request; see "Performance" in the README.
 */
@Injectable()
export class MetricsInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const exchange =
      context.getType() === 'http'
        ? exchangeOf(context.switchToHttp().getResponse())
        : undefined;
    if (exchange === undefined) return next.handle();
    const source = next.handle();
    return new Observable((subscriber) =>
      source.subscribe({
        next: (value) => {
          this.onValue(exchange, value);
          subscriber.next(value);
        },
        error: (error: unknown) => {
          this.onError(exchange, error, context);
          subscriber.error(error);
        },
        complete: () => subscriber.complete(),
      }),
    );
  }

  /** Keeps the exception that decides `error_type`. Override to unwrap errors of your own. */
  protected onError(
    exchange: ExchangeOutcome,
    error: unknown,
    _context: ExecutionContext,
  ): void {
    exchange.error = error;
  }

  /**
   * Sees each value the handler emits. `StreamableFile` bodies are already watched at the
   * adapter, so this does nothing; override it to mark `streamFailed` for bodies of your own.
   */
  protected onValue(_exchange: ExchangeOutcome, _value: unknown): void {}
}
