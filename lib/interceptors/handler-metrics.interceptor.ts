import {
  Injectable,
  type CallHandler,
  type ExecutionContext,
  type NestInterceptor,
} from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import type { Observable } from 'rxjs';
import { HandlerInstruments } from '../decorators/handler-instruments.js';
import { measureObservable } from '../method-instrument.js';

/**
 * Times @Timed/@Counted routes and message handlers. The decorators name this class in the
 * method's `@UseInterceptors` metadata, so Nest makes one per module of each app, and each finds
 * its own app's instruments (lazily, in whatever module the metrics module is); in an app without
 * the metrics module, or for a method it does not measure, it passes straight through.
 */
@Injectable()
export class HandlerMetricsInterceptor implements NestInterceptor {
  private instruments: HandlerInstruments | null | undefined;
  // The same context reaches every interceptor of one call: a class-level and a method-level
  // decorator on one route must not measure it twice.
  private readonly seen = new WeakSet<ExecutionContext>();

  constructor(private readonly moduleRef: ModuleRef) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (this.seen.has(context)) return next.handle();
    const instrument = this.resolve()?.get(
      context.getClass(),
      context.getHandler(),
    );
    if (instrument === undefined) return next.handle();
    this.seen.add(context);
    return measureObservable(instrument, next.handle());
  }

  private resolve(): HandlerInstruments | null {
    if (this.instruments === undefined) {
      try {
        this.instruments = this.moduleRef.get(HandlerInstruments, {
          strict: false,
        });
      } catch {
        this.instruments = null;
      }
    }
    return this.instruments ?? null;
  }
}
