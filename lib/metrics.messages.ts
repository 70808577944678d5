const PREFIX = 'nestjs-metrics:';

/** What the `path` option (and `METRICS_PATH`) must be. */
export const PATH_RULE =
  'a path that starts with "/", is not "/" and has no spaces, "?" or "#"';
/** What the `prefix` option (and `METRICS_PREFIX`) must be. */
export const PREFIX_RULE =
  'a string of [a-zA-Z0-9_:] that does not start with a digit';

export const invalidOptionMessage = (
  option: string,
  expected: string,
  got: unknown,
) => `${PREFIX} option "${option}" must be ${expected}; got ${describe(got)}.`;

export const prometheusIoRegistryMessage = () =>
  `${PREFIX} option "registry" must be a prom-client 15 Registry; got a Registry of @prometheus-io/client, which this version does not support (its metrics are prom-client 15's). Pass a Registry from "prom-client" (import { Registry } from 'prom-client'), or leave "registry" out.`;

export const reservedDefaultLabelMessage = (label: string, reason: string) =>
  `${PREFIX} option "defaultLabels" must not use the label name "${label}" (${reason}); give that default label another name.`;

export const invalidDecoratorMessage = (
  decorator: string,
  target: string,
  problem: string,
) => `${PREFIX} @${decorator}() on ${target}: ${problem}`;

export const metricConflictMessage = (name: string, problem: string) =>
  `${PREFIX} metric "${name}" already exists ${problem}.`;

export const invalidMetricNameMessage = (name: string) =>
  `${PREFIX} "${name}" is not a valid Prometheus metric name (expected [a-zA-Z_:][a-zA-Z0-9_:]*).`;

export const invalidLabelNameMessage = (metric: string, label: string) =>
  `${PREFIX} label "${label}" of metric "${metric}" is not a valid Prometheus label name (expected [a-zA-Z_][a-zA-Z0-9_]*, not starting with __).`;

export const invalidEnvironmentMessage = (
  variable: string,
  expected: string,
  got: string,
) =>
  `${PREFIX} environment variable ${variable} must be ${expected}; got ${JSON.stringify(got)}.`;

export const seriesLimitMessage = (families: readonly string[], max: number) =>
  `${PREFIX} metric ${families.map((f) => `"${f}"`).join(', ')} reached ${max} label sets (option "maxSeries"); new label sets are recorded in one series whose label values read "OVERFLOW". Keep unbounded values (ids, raw input) out of labels, or raise "maxSeries".`;
export const metricsPortFailedMessage = (
  port: number,
  host: string | undefined,
  error: NodeJS.ErrnoException,
) =>
  error.code === 'EADDRINUSE'
    ? `${PREFIX} option "port": port ${port} is already in use${host ? ` on ${host}` : ''}; choose a free port (0 picks one).`
    : `${PREFIX} option "port": the metrics server could not listen on port ${port}${host ? ` of host "${host}"` : ''}: ${error.message}`;

export const recordingFailedMessage =
  'nestjs-metrics: recording a request failed; the request was not affected';

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (value === null || value === undefined) return String(value);
  if (Array.isArray(value))
    return `an array (${JSON.stringify(value).slice(0, 80)})`;
  if (typeof value === 'object')
    return `an object of class ${value.constructor?.name ?? 'Object'}`;
  return `${typeof value} ${String(value)}`;
}

/** Like `invalidOptionMessage`, for options that hold secrets: it names only the kind of value. */
export const invalidSecretOptionMessage = (
  option: string,
  expected: string,
  got: unknown,
) =>
  `${PREFIX} option "${option}" must be ${expected}; got ${kindOf(got)} (value not shown).`;

function kindOf(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string')
    return value === '' ? 'an empty string' : 'a string';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}
