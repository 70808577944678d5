import {
  invalid,
  resolveObject,
  resolveSeconds,
  type SettingName,
} from '../../options/option-checks.js';

export type OtlpProtocol = 'http/protobuf' | 'http/json';

/** The `otlp` option: push every family of the registry to an OTLP/HTTP endpoint. */
export interface OtlpOptions {
  /** The full metrics URL, as is. Default from `OTEL_EXPORTER_OTLP_METRICS_ENDPOINT`, else `OTEL_EXPORTER_OTLP_ENDPOINT` + `/v1/metrics`, else `http://localhost:4318/v1/metrics`. */
  endpoint?: string;
  /** Headers of every export, over those of `OTEL_EXPORTER_OTLP[_METRICS]_HEADERS`. */
  headers?: Record<string, string>;
  /** Default `http/protobuf` (or `OTEL_EXPORTER_OTLP[_METRICS]_PROTOCOL`). */
  protocol?: OtlpProtocol;
  /** Seconds between exports. Default 60 (or `OTEL_METRIC_EXPORT_INTERVAL`, in ms). */
  intervalSeconds?: number;
  /** Seconds one export may take. Default 10 (or `OTEL_EXPORTER_OTLP[_METRICS]_TIMEOUT`, in ms). */
  timeoutSeconds?: number;
  /** `gzip` or `none`. Default `none` (or `OTEL_EXPORTER_OTLP[_METRICS]_COMPRESSION`). */
  compression?: 'gzip' | 'none';
  /** Resource attributes over the default labels, `OTEL_RESOURCE_ATTRIBUTES` and `OTEL_SERVICE_NAME`. */
  resource?: Record<string, string>;
}

export interface ResolvedOtlpOptions {
  readonly endpoint: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly protocol: OtlpProtocol;
  readonly intervalMs: number;
  /** One export, retries included (the exporter's own timeout). */
  readonly timeoutMs: number;
  /** How long collecting and exporting together may take (`OTEL_METRIC_EXPORT_TIMEOUT`). */
  readonly exportTimeoutMs: number;
  readonly compression: 'gzip' | 'none';
  readonly resource: Readonly<Record<string, string>>;
}

const OTLP_KEYS = new Set([
  'endpoint',
  'headers',
  'protocol',
  'intervalSeconds',
  'timeoutSeconds',
  'compression',
  'resource',
]);
const PROTOCOLS: readonly string[] = ['http/protobuf', 'http/json'];
const DEFAULT_ENDPOINT = 'http://localhost:4318/v1/metrics';

/**
 * Checks the `otlp` option and completes it from the standard `OTEL_*` variables (options in
 * code win). `undefined` (no export) unless the option is given or `OTEL_METRICS_EXPORTER`
 * says `otlp`; `OTEL_SDK_DISABLED=true` turns it off whatever else says. An invalid variable
 * fails start-up naming it.
 */
export function resolveOtlp(
  value: unknown,
  env: NodeJS.ProcessEnv = process.env,
): ResolvedOtlpOptions | undefined {
  const variable = (name: string) => {
    const text = env[name]?.trim();
    return text === undefined || text === '' ? undefined : text;
  };
  const disabled = variable('OTEL_SDK_DISABLED');
  if (
    disabled !== undefined &&
    !['true', 'false'].includes(disabled.toLowerCase())
  )
    throw invalid({ variable: 'OTEL_SDK_DISABLED' }, 'true or false', disabled);
  const exporters = variable('OTEL_METRICS_EXPORTER')
    ?.split(',')
    .map((name) => name.trim().toLowerCase());
  const wanted =
    value !== undefined && value !== false
      ? true
      : value === false
        ? false
        : (exporters?.includes('otlp') ?? false);
  if (value !== undefined && typeof value !== 'boolean')
    resolveObject(value, 'otlp', OTLP_KEYS, 'true, false or an object');
  if (!wanted || disabled?.toLowerCase() === 'true') return undefined;
  const given = (typeof value === 'object' ? value : {}) as Record<
    string,
    unknown
  >;

  /** The metrics-specific variable if set, else the general one, with its name for messages. */
  const signal = (suffix: string): [string, string] | undefined => {
    for (const name of [
      `OTEL_EXPORTER_OTLP_METRICS_${suffix}`,
      `OTEL_EXPORTER_OTLP_${suffix}`,
    ]) {
      const text = variable(name);
      if (text !== undefined) return [name, text];
    }
    return undefined;
  };

  const endpoint =
    given.endpoint !== undefined
      ? checkUrl(given.endpoint, 'otlp.endpoint')
      : variable('OTEL_EXPORTER_OTLP_METRICS_ENDPOINT') !== undefined
        ? checkUrl(variable('OTEL_EXPORTER_OTLP_METRICS_ENDPOINT'), {
            variable: 'OTEL_EXPORTER_OTLP_METRICS_ENDPOINT',
          })
        : variable('OTEL_EXPORTER_OTLP_ENDPOINT') !== undefined
          ? `${checkUrl(variable('OTEL_EXPORTER_OTLP_ENDPOINT'), {
              variable: 'OTEL_EXPORTER_OTLP_ENDPOINT',
            }).replace(/\/+$/, '')}/v1/metrics`
          : DEFAULT_ENDPOINT;

  const headers: Record<string, string> = {};
  for (const name of [
    'OTEL_EXPORTER_OTLP_HEADERS',
    'OTEL_EXPORTER_OTLP_METRICS_HEADERS',
  ]) {
    const text = variable(name);
    if (text !== undefined) Object.assign(headers, parseKeyValues(text, name));
  }
  if (given.headers !== undefined)
    Object.assign(headers, checkStrings(given.headers, 'otlp.headers'));

  const protocolVariable = signal('PROTOCOL');
  const protocol = checkChoice(
    given.protocol ?? protocolVariable?.[1] ?? 'http/protobuf',
    given.protocol !== undefined
      ? 'otlp.protocol'
      : { variable: protocolVariable?.[0] ?? 'otlp.protocol' },
    PROTOCOLS,
    ' (gRPC is not supported: point it at the OTLP/HTTP port, 4318)',
  ) as OtlpProtocol;

  const compressionVariable = signal('COMPRESSION');
  const compression = checkChoice(
    given.compression ?? compressionVariable?.[1] ?? 'none',
    given.compression !== undefined
      ? 'otlp.compression'
      : { variable: compressionVariable?.[0] ?? 'otlp.compression' },
    ['gzip', 'none'],
  ) as 'gzip' | 'none';

  const timeoutVariable = signal('TIMEOUT');
  const timeoutMs =
    given.timeoutSeconds !== undefined
      ? resolveSeconds(given.timeoutSeconds, 'otlp.timeoutSeconds', 10) * 1000
      : timeoutVariable !== undefined
        ? milliseconds(timeoutVariable[1], timeoutVariable[0])
        : 10_000;
  const intervalText = variable('OTEL_METRIC_EXPORT_INTERVAL');
  const intervalMs =
    given.intervalSeconds !== undefined
      ? resolveSeconds(given.intervalSeconds, 'otlp.intervalSeconds', 60) * 1000
      : intervalText !== undefined
        ? milliseconds(intervalText, 'OTEL_METRIC_EXPORT_INTERVAL')
        : 60_000;
  const exportTimeoutText = variable('OTEL_METRIC_EXPORT_TIMEOUT');
  const exportTimeoutMs = Math.min(
    exportTimeoutText !== undefined
      ? milliseconds(exportTimeoutText, 'OTEL_METRIC_EXPORT_TIMEOUT')
      : 30_000,
    // The SDK's reader refuses an export timeout longer than its interval.
    intervalMs,
  );

  const resource: Record<string, string> = {};
  const attributes = variable('OTEL_RESOURCE_ATTRIBUTES');
  if (attributes !== undefined)
    Object.assign(
      resource,
      parseKeyValues(attributes, 'OTEL_RESOURCE_ATTRIBUTES'),
    );
  const serviceName = variable('OTEL_SERVICE_NAME');
  if (serviceName !== undefined) resource['service.name'] = serviceName;
  if (given.resource !== undefined)
    Object.assign(resource, checkStrings(given.resource, 'otlp.resource'));

  return {
    endpoint,
    headers,
    protocol,
    intervalMs,
    timeoutMs,
    exportTimeoutMs,
    compression,
    resource,
  };
}

function checkUrl(value: unknown, name: SettingName): string {
  try {
    if (typeof value === 'string') {
      const url = new URL(value);
      if (url.protocol === 'http:' || url.protocol === 'https:') return value;
    }
  } catch {
    // reported below
  }
  throw invalid(name, 'an http:// or https:// URL', value);
}

function checkChoice(
  value: unknown,
  name: SettingName,
  choices: readonly string[],
  hint = '',
): string {
  const text = typeof value === 'string' ? value.trim() : value;
  if (typeof text !== 'string' || !choices.includes(text))
    throw invalid(name, `${choices.join(' or ')}${hint}`, value);
  return text;
}

function checkStrings(value: unknown, option: string): Record<string, string> {
  const given = resolveObject(
    value,
    option,
    undefined,
    'an object of names to strings',
  );
  for (const [key, text] of Object.entries(given))
    if (typeof text !== 'string')
      throw invalid(`${option}.${key}`, 'a string', text);
  return given as Record<string, string>;
}

/** A whole number of milliseconds above 0, as the OpenTelemetry variables give durations. */
function milliseconds(text: string, variable: string): number {
  if (!/^\d+$/.test(text) || Number(text) === 0)
    throw invalid({ variable }, 'a whole number of milliseconds above 0', text);
  return Number(text);
}

/** `key1=value1,key2=value2`, each part percent-decoded (the W3C Baggage form the spec uses). */
function parseKeyValues(
  text: string,
  variable: string,
): Record<string, string> {
  const pairs: Record<string, string> = {};
  const parts = text.split(',');
  for (const [index, part] of parts.entries()) {
    if (part.trim() === '') continue;
    const equals = part.indexOf('=');
    const key = equals > 0 ? part.slice(0, equals).trim() : '';
    // Header values are often credentials: the message says where, never what.
    const where = `part ${index + 1} of ${parts.length}`;
    if (key === '')
      throw invalid(
        { variable },
        'comma-separated key=value pairs',
        `${where} without a key`,
      );
    try {
      pairs[decodeURIComponent(key)] = decodeURIComponent(
        part.slice(equals + 1).trim(),
      );
    } catch {
      throw invalid(
        { variable },
        'comma-separated key=value pairs, percent-encoded',
        where,
      );
    }
  }
  return pairs;
}
