import { Controller, Get, Inject, Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { INestApplication } from '@nestjs/common';
import { BenchController, type BenchRoute } from './app.js';
import { loadDist, type Library } from './library.js';

// The memory test's second scenario: the module's request metrics plus 10,000 custom series that
// every request keeps touching. 2,500 label values each of a MetricsService counter, gauge and
// histogram, and 1,250 classes whose `run()` is @Timed and @Counted (1,250 label sets each).

/** Label values per MetricsService metric. */
export const CUSTOM_KEYS = 2_500;
/** Generated classes with a @Timed and @Counted method. */
export const DECORATED_CLASSES = 1_250;
/** The module's `maxSeries` in the scenario: room for every label value of one family. */
export const CUSTOM_MAX_SERIES = CUSTOM_KEYS * 2;
/** Custom series the scenario holds once every label value has been touched. */
export const CUSTOM_SERIES = CUSTOM_KEYS * 3 + DECORATED_CLASSES * 2;

/** The route that touches the custom series, one label value of each kind per request. */
export const CUSTOM_ROUTE: BenchRoute = {
  name: 'custom',
  method: 'GET',
  path: '/custom',
  status: 200,
};

/** Exposition lines that begin a custom series (histograms by their `_count` line). */
export const CUSTOM_SERIES_PREFIXES = [
  'bench_custom_events_total{',
  'bench_custom_level{',
  'bench_custom_size_bytes_count{',
  'method_duration_seconds_count{',
  'method_calls_total{',
];

const JOBS = 'BENCH:JOBS';

interface Job {
  run(): number;
}

/** The scenario's app: the bench routes and /custom, with `MetricsModule.forRoot()`. */
export async function createCustomSeriesApp(): Promise<INestApplication> {
  const { MetricsModule, MetricsService, Timed, Counted } =
    await loadDist<Library>('index.js');

  const jobClasses = Array.from({ length: DECORATED_CLASSES }, (_, i) => {
    const name = `Job${i}`;
    // A named class per label set: the decorators label by class name.
    const job = {
      [name]: class implements Job {
        run(): number {
          return i;
        }
      },
    }[name];
    Injectable()(job);
    Timed()(job);
    Counted()(job);
    return job;
  });

  @Controller()
  class CustomSeriesController {
    private next = 0;
    private readonly events;
    private readonly level;
    private readonly size;

    constructor(
      @Inject(MetricsService) metrics: InstanceType<typeof MetricsService>,
      @Inject(JOBS) private readonly jobs: Job[],
    ) {
      const labelNames = ['key'] as const;
      this.events = metrics.counter('bench_custom_events_total', {
        help: 'Custom events, by key.',
        labelNames,
      });
      this.level = metrics.gauge('bench_custom_level', {
        help: 'A custom level, by key.',
        labelNames,
      });
      this.size = metrics.histogram('bench_custom_size_bytes', {
        help: 'A custom size, by key.',
        labelNames,
        buckets: [64, 256, 1024, 4096],
      });
    }

    @Get('custom')
    touch(): { key: string; job: number } {
      const i = this.next++;
      const key = `k${i % CUSTOM_KEYS}`;
      this.events.inc({ key });
      this.level.set({ key }, i);
      this.size.observe({ key }, i & 4095);
      return { key, job: this.jobs[i % DECORATED_CLASSES].run() };
    }
  }

  @Module({
    imports: [MetricsModule.forRoot({ maxSeries: CUSTOM_MAX_SERIES })],
    controllers: [BenchController, CustomSeriesController],
    providers: [
      ...jobClasses,
      {
        provide: JOBS,
        useFactory: (...jobs: Job[]) => jobs,
        inject: jobClasses,
      },
    ],
  })
  class CustomSeriesModule {}
  return NestFactory.create(CustomSeriesModule, { logger: false });
}
