import { Module, type DynamicModule } from '@nestjs/common';
import { MetricsModule } from '../metrics.module.js';
import type { MetricsModuleOptions } from '../interfaces/metrics-module-options.interface.js';
import type { MetricsModuleExtras } from '../metrics.module-definition.js';

/** Options of `MetricsModule` that start something running in the background, or share a registry. */
const LEFT_OUT = ['registry', 'pushgateway', 'cluster'] as const;

/**
 * `MetricsModule` for a test: every app (or testing module) compiled with it gets a registry of
 * its own, without default metrics and without anything running on an interval, so exact counts
 * hold whatever else runs in the process.
 */
@Module({})
export class MetricsTestingModule {
  /**
   * `MetricsModule.forRoot(options)` with `defaultMetrics: false` and, unless `summary` is given,
   * `summary: false` (no summary path and no snapshot timer; `MetricsService.summary()` still
   * answers). `registry`, `pushgateway` and `cluster` are refused: the module makes its own
   * registry and pushes to nothing.
   */
  static forRoot(
    options: MetricsModuleOptions & MetricsModuleExtras = {},
  ): DynamicModule {
    for (const name of LEFT_OUT)
      if (options[name] !== undefined)
        throw new TypeError(
          `MetricsTestingModule: option "${name}" is not available in tests (the testing module makes a fresh registry per app and runs nothing in the background); use MetricsModule.forRoot() to test it`,
        );
    return MetricsModule.forRoot({
      summary: false,
      ...options,
      defaultMetrics: false,
    });
  }
}
