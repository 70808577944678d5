import { ConfigurableModuleBuilder, type Type } from '@nestjs/common';
import { APP_INTERCEPTOR } from '@nestjs/core';
import { MetricsInterceptor } from './interceptors/metrics.interceptor.js';
import type { MetricsModuleOptions } from './interfaces/metrics-module-options.interface.js';

/** Set beside the options in `forRoot()` and `forRootAsync()`; known before any provider runs. */
export interface MetricsModuleExtras {
  /** Make `MetricsService` injectable everywhere. Default `true`. */
  isGlobal?: boolean;
  /** A subclass of `MetricsInterceptor` to register instead of it. */
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
    (definition, extras) => ({
      ...definition,
      global: extras.isGlobal,
      providers: [
        ...(definition.providers ?? []),
        {
          provide: APP_INTERCEPTOR,
          useClass: extras.interceptor ?? MetricsInterceptor,
        },
      ],
    }),
  )
  .build();
