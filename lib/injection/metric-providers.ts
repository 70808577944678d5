import { Inject, type FactoryProvider } from '@nestjs/common';
import type { Counter, Gauge, Histogram, Summary } from 'prom-client';
import {
  MetricsService,
  type CounterOptions,
  type GaugeOptions,
  type HistogramOptions,
  type SummaryOptions,
} from '../metrics.service.js';

const TOKEN_PREFIX = 'nestjs-metrics:metric:';

/**
 * The injection token of the metric a `make…Provider({ name })` provides: the name as given
 * (without the module's `prefix`), namespaced so it never meets another library's token.
 * Pass it to `overrideProvider()` in tests.
 */
export function getMetricToken(name: string): string {
  return `${TOKEN_PREFIX}${name}`;
}

/** Injects the metric a `make…Provider({ name })` provides. */
export function InjectMetric(
  name: string,
): PropertyDecorator & ParameterDecorator {
  return Inject(getMetricToken(name));
}

/** A metric's configuration for a `make…Provider()`: its name, and the `MetricsService` options. */
export type MetricProviderOptions<O> = O & { readonly name: string };

function provider<M>(
  name: string,
  create: (metrics: MetricsService) => M,
): FactoryProvider<M> {
  return {
    provide: getMetricToken(name),
    useFactory: create,
    inject: [MetricsService],
  };
}

/**
 * A provider of the counter `name`, created through the app's `MetricsService` (the module's
 * registry, `prefix` and `maxSeries` apply); inject it with `@InjectMetric(name)`.
 */
export function makeCounterProvider({
  name,
  ...options
}: MetricProviderOptions<CounterOptions>): FactoryProvider<Counter<string>> {
  return provider(name, (metrics) => metrics.counter(name, options));
}

/** Like `makeCounterProvider`, for a gauge. */
export function makeGaugeProvider({
  name,
  ...options
}: MetricProviderOptions<GaugeOptions>): FactoryProvider<Gauge<string>> {
  return provider(name, (metrics) => metrics.gauge(name, options));
}

/** Like `makeCounterProvider`, for a histogram (the module's buckets unless `buckets` is given). */
export function makeHistogramProvider({
  name,
  ...options
}: MetricProviderOptions<HistogramOptions>): FactoryProvider<
  Histogram<string>
> {
  return provider(name, (metrics) => metrics.histogram(name, options));
}

/** Like `makeCounterProvider`, for a summary. */
export function makeSummaryProvider({
  name,
  ...options
}: MetricProviderOptions<SummaryOptions>): FactoryProvider<Summary<string>> {
  return provider(name, (metrics) => metrics.summary(name, options));
}
