export { MetricsModule } from './metrics.module.js';
export { MetricsService } from './metrics.service.js';
export type {
  CollectorLabels,
  CounterReading,
  GaugeReading,
  HistogramReading,
  MetricReading,
} from './collector/metrics-collector.js';
export type {
  CounterOptions,
  GaugeOptions,
  HistogramOptions,
  SummaryOptions,
} from './metrics.service.js';
export { Timed } from './decorators/timed.decorator.js';
export { Counted } from './decorators/counted.decorator.js';
export { MetricsServer } from './scrape/metrics-server.js';
export { MetricsInterceptor } from './interceptors/metrics.interceptor.js';
export type { ExchangeOutcome } from './http/http-exchange.js';
export type {
  MetricsModuleOptions,
  TransportBucketsOption,
} from './interfaces/metrics-module-options.interface.js';
export type { DefaultMetricsOptions } from './options/default-metrics.options.js';
export type {
  ScrapeAuthFunction,
  ScrapeAuthOption,
} from './scrape/scrape-auth.js';
export type {
  TimedOptions,
  CountedOptions,
  MetricDecoratorOptions,
} from './interfaces/metric-decorator-options.interface.js';
export type { ErrorType, Transport } from './recorder/request-record.js';
export {
  METRICS_REGISTRY,
  UNMATCHED_ROUTE,
  DEFAULT_DURATION_BUCKETS,
  DEFAULT_MAX_SERIES,
  OVERFLOW_LABEL_VALUE,
  OTHER_METHOD,
  DEFAULT_QUEUE_WAIT_BUCKETS,
  DEFAULT_TRANSPORT_BUCKETS,
} from './metrics.constants.js';
export { METRICS_MODULE_OPTIONS } from './metrics.module-definition.js';
export type { MetricsModuleExtras } from './metrics.module-definition.js';
export { setupClusterPrimary } from './cluster/cluster-primary.js';
export type { StopClusterPrimary } from './cluster/cluster-primary.js';
export type { ClusterOptions } from './interfaces/cluster-options.interface.js';
export type { PushgatewayOptions } from './interfaces/pushgateway-options.interface.js';
export type { QueueDepthOptions } from './queue/queue-depth.options.js';
export type { LogPushOptions } from './push/log-push/log-push.options.js';
export type { ExemplarsOptions } from './exemplars/exemplars.options.js';
export { ExpositionRegistry } from './scrape/exposition-registry.js';
export type {
  MetricsSummary,
  TransportSummary,
  RouteSummary,
  LatencyQuantiles,
  MetricsSnapshot,
  SnapshotFamily,
  SnapshotValueSeries,
  SnapshotHistogramSeries,
  SnapshotSummarySeries,
} from './summary/metrics-summary.interface.js';
export type { MetricsSummaryOptions } from './summary/summary.options.js';
export {
  InjectMetric,
  getMetricToken,
  makeCounterProvider,
  makeGaugeProvider,
  makeHistogramProvider,
  makeSummaryProvider,
} from './injection/metric-providers.js';
export type { MetricProviderOptions } from './injection/metric-providers.js';
export { LogErrorMetrics } from './logs/log-error-metrics.js';
export type { LogErrorTransport } from './logs/winston-transport.js';
export type { PinoLogMethodHook } from './logs/pino-log-method.js';
export type { LogErrorsOptions } from './logs/log-errors.options.js';
export {
  DEFAULT_LOG_ERROR_CATEGORIES,
  type CategoryRule,
} from './logs/log-error-categories.js';
