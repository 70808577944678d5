import type {
  CallHandler,
  ExecutionContext,
  NestInterceptor,
} from '@nestjs/common';
import type { Observable } from 'rxjs';
import {
  measureObservable,
  type MethodInstrument,
} from '../method-instrument.js';

/** Marks the interceptors this library puts on decorated handlers, so a later app can replace them. */
export const HANDLER_METRICS_INTERCEPTOR = Symbol.for(
  'nestjs-metrics:handler-metrics-interceptor',
);

/**
 * Times @Timed/@Counted controller methods (HTTP routes, message and gateway handlers alike).
 * It is put on the decorated methods only, so routes without a decorator run no interceptor.
 */
export class HandlerMetricsInterceptor implements NestInterceptor {
  readonly [HANDLER_METRICS_INTERCEPTOR] = true;
  // By class, then handler: controllers that inherit one decorated method share its function.
  private readonly instruments = new WeakMap<
    object,
    WeakMap<object, MethodInstrument>
  >();

  measure(target: object, handler: object, instrument: MethodInstrument): void {
    let byHandler = this.instruments.get(target);
    if (byHandler === undefined) {
      byHandler = new WeakMap();
      this.instruments.set(target, byHandler);
    }
    byHandler.set(handler, instrument);
  }

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const instrument = this.instruments
      .get(context.getClass())
      ?.get(context.getHandler());
    if (instrument === undefined) return next.handle();
    return measureObservable(instrument, next.handle());
  }
}
