export { MetricsTestingModule } from './metrics-testing.module.js';
export {
  getMetricValue,
  getHistogram,
  snapshotDelta,
} from './metric-values.js';
export type {
  HistogramValue,
  LabelSelector,
  MetricsDelta,
  SeriesChange,
} from './metric-values.js';
export { expectMetrics } from './expect-metrics.js';
export { lintMetrics, formatLintProblems } from './lint-metrics.js';
export type { LintProblem } from './lint-metrics.js';
export { parseExposition, ExpositionSyntaxError } from './exposition-text.js';
export type {
  ExpositionFamily,
  ExpositionSample,
  ExpositionType,
} from './exposition-text.js';
export type { RegistrySource, ProviderSource } from './registry-of.js';
