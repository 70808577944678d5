export const PREFIX_MESSAGE = 'nestjs-metrics:';

export const kindConflictMessage = (
  name: string,
  had: string,
  wanted: string,
) =>
  `${PREFIX_MESSAGE} "${name}" is recorded as a ${had}; ${wanted} cannot record it. One collector name is one kind of metric: give the other one another name.`;

export const decrementCounterMessage = (name: string, fullName: string) =>
  `${PREFIX_MESSAGE} decrement("${name}") refused: "${fullName}" is a counter, and a counter only goes up. For a value that goes up and down, make "${name}" a gauge first with gauge("${name}", initialValue); increment() and decrement() then move it.`;

export const labelNamesMessage = (
  name: string,
  had: readonly string[],
  got: readonly string[],
) =>
  `${PREFIX_MESSAGE} "${name}" was first recorded with the label names [${had.join(', ')}]; got [${got.join(', ')}]. Every call of one name takes the label names of its first call.`;

export const invalidValueMessage = (
  method: string,
  name: string,
  what: string,
  value: unknown,
) =>
  `${PREFIX_MESSAGE} ${method}("${name}"): ${what}; got ${typeof value === 'number' ? String(value) : (JSON.stringify(value) ?? String(value))}.`;

export const unknownMetricMessage = (name: string, known: readonly string[]) =>
  `${PREFIX_MESSAGE} get("${name}"): no such metric. Known: ${known.length === 0 ? 'none' : known.join(', ')}.`;

export const unknownSeriesMessage = (
  name: string,
  labels: Readonly<Record<string, string>>,
  known: readonly string[],
) =>
  `${PREFIX_MESSAGE} get("${name}", ${JSON.stringify(labels)}): no such series. Series of "${name}": ${known.length === 0 ? 'none yet' : known.join(', ')}.`;

export const unreadableKindMessage = (name: string, type: string) =>
  `${PREFIX_MESSAGE} get("${name}"): a ${type} is not read by get() (counters, gauges and histograms are); read it from MetricsService.registry.`;

export const disabledReadMessage = (name: string) =>
  `${PREFIX_MESSAGE} get("${name}"): metrics are disabled (option "enabled" or METRICS_ENABLED is false), so nothing is recorded to read.`;
