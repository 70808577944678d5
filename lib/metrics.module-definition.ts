import { ConfigurableModuleBuilder, type Type } from '@nestjs/common';
import { APP_INTERCEPTOR } from '@nestjs/core';
import { MetricsInterceptor } from './interceptors/metrics.interceptor.js';
import { invalidOptionMessage } from './metrics.messages.js';
import type { MetricsModuleOptions } from './interfaces/metrics-module-options.interface.js';

/** Set beside the options in `forRoot()` and `forRootAsync()`; known before any provider runs. */
export interface MetricsModuleExtras {
  /** Make `MetricsService` injectable everywhere. Default `true`. */
  isGlobal?: boolean;
  /**
   * A `MetricsInterceptor` (or subclass) to register as a global interceptor, to override how
   * exceptions are recorded. Default none: nothing runs per route unless it is decorated.
   */
  interceptor?: Type<MetricsInterceptor>;
}

export const {
  ConfigurableModuleClass,
  MODULE_OPTIONS_TOKEN: METRICS_MODULE_OPTIONS,
  OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<MetricsModuleOptions>({
  moduleName: 'Metrics',
})
  .setClassMethodName('forRoot')
  .setExtras<MetricsModuleExtras>(
    { isGlobal: true, interceptor: undefined },
    (definition, extras) => {
      checkInterceptor(extras.interceptor);
      return {
        ...definition,
        global: extras.isGlobal,
        providers: [
          ...(definition.providers ?? []),
          ...(extras.interceptor
            ? [{ provide: APP_INTERCEPTOR, useClass: extras.interceptor }]
            : []),
        ],
      };
    },
  )
  .build();

/** Fails `forRoot()` when the `interceptor` extra is not a `MetricsInterceptor` class. */
function checkInterceptor(interceptor: unknown): void {
  if (
    interceptor !== undefined &&
    !(
      typeof interceptor === 'function' &&
      (interceptor === MetricsInterceptor ||
        interceptor.prototype instanceof MetricsInterceptor)
    )
  ) {
    throw new TypeError(
      invalidOptionMessage(
        'interceptor',
        'MetricsInterceptor or a class that extends it',
        interceptor,
      ),
    );
  }
}
