const PREFIX = 'nestjs-metrics:';

export const invalidOptionMessage = (
  option: string,
  expected: string,
  got: unknown,
) => `${PREFIX} option "${option}" must be ${expected}; got ${describe(got)}.`;

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
