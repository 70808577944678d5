import { Injectable } from '@nestjs/common';
import type { MethodInstrument } from '../method-instrument.js';

/**
 * One app's instruments of the decorated routes and message handlers Nest dispatches, by class
 * then handler (controllers that inherit one decorated method share its function). The
 * `HandlerMetricsInterceptor` of each module of the app finds it through its `ModuleRef`.
 */
@Injectable()
export class HandlerInstruments {
  private readonly byClass = new WeakMap<
    object,
    WeakMap<object, MethodInstrument>
  >();

  set(target: object, handler: object, instrument: MethodInstrument): void {
    let byHandler = this.byClass.get(target);
    if (byHandler === undefined) {
      byHandler = new WeakMap();
      this.byClass.set(target, byHandler);
    }
    byHandler.set(handler, instrument);
  }

  get(target: object, handler: object): MethodInstrument | undefined {
    return this.byClass.get(target)?.get(handler);
  }
}
