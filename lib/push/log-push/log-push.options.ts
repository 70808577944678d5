import { readFileSync } from 'node:fs';
import { invalidSecretOptionMessage } from '../../metrics.messages.js';
import {
  invalid,
  resolveObject,
  resolveSeconds,
  type SettingName,
} from '../../options/option-checks.js';

/** Where and how counted log errors are pushed over a WebSocket (option `logPush`). */
export interface LogPushOptions {
  /** `ws://` or `wss://` URL of the metrics service, e.g. `wss://metrics.example.com/ingest`. */
  url: string;
  /** Sent as `auth_token` in every message (and in `authHeader`, when given). Never logged. */
  authToken: string;
  /** The `service` field of every record, e.g. `orders-api`. */
  service: string;
  /** The `app_version` tag of every record. Default `unknown`. */
  version?: string;
  /** Records per message: a message goes out as soon as this many wait. Default 10. */
  batchSize?: number;
  /** Seconds the first waiting record may wait before a smaller message goes out. Default 5. */
  flushIntervalSeconds?: number;
  /** Records that may wait (the batches on the wire included); beyond it the oldest waiting one is dropped. Default 1000. */
  maxQueue?: number;
  /** Further tags of every record, e.g. `{ region: 'eu-west-1' }`. */
  tags?: Record<string, string>;
  /**
   * Also send the token in this header of the WebSocket upgrade request: `authorization` sends
   * `Bearer <token>`, any other name the token as it is. Default none (payload only).
   */
  authHeader?: string;
  /**
   * Seconds a connection attempt, and the acknowledgement of a message, may take; also the budget
   * of the final flush in `app.close()`. Default 5.
   */
  timeoutSeconds?: number;
  /** Longest wait between two connection attempts, in seconds. Default 30. */
  maxBackoffSeconds?: number;
  /** TLS settings of a `wss://` URL: `ca`, the PEM certificate(s) to trust (e.g. a self-signed one). */
  tls?: { ca: string | Buffer | (string | Buffer)[] };
}

/** `logPush` after defaults were merged and every value was checked. */
export interface ResolvedLogPushOptions {
  url: URL;
  authToken: string;
  service: string;
  version: string;
  batchSize: number;
  flushIntervalSeconds: number;
  maxQueue: number;
  tags: Readonly<Record<string, string>>;
  authHeader: string | undefined;
  timeoutSeconds: number;
  maxBackoffSeconds: number;
  ca: string | Buffer | (string | Buffer)[] | undefined;
}

/** The tags every record carries; `tags` may not replace them. */
export const RECORD_TAGS: readonly string[] = [
  'error_level',
  'error_category',
  'logger_name',
  'app_version',
  'exception_type',
];

const KEYS = new Set([
  'url',
  'authToken',
  'service',
  'version',
  'batchSize',
  'flushIntervalSeconds',
  'maxQueue',
  'tags',
  'authHeader',
  'timeoutSeconds',
  'maxBackoffSeconds',
  'tls',
]);

/** The environment variable of each field (`METRICS_LOG_PUSH_*`). */
export const LOG_PUSH_VARIABLES = {
  url: 'METRICS_LOG_PUSH_URL',
  authToken: 'METRICS_LOG_PUSH_AUTH_TOKEN',
  service: 'METRICS_LOG_PUSH_SERVICE',
  version: 'METRICS_LOG_PUSH_VERSION',
  batchSize: 'METRICS_LOG_PUSH_BATCH_SIZE',
  flushIntervalSeconds: 'METRICS_LOG_PUSH_FLUSH_INTERVAL_SECONDS',
  maxQueue: 'METRICS_LOG_PUSH_MAX_QUEUE',
  tags: 'METRICS_LOG_PUSH_TAGS',
  authHeader: 'METRICS_LOG_PUSH_AUTH_HEADER',
  timeoutSeconds: 'METRICS_LOG_PUSH_TIMEOUT_SECONDS',
  maxBackoffSeconds: 'METRICS_LOG_PUSH_MAX_BACKOFF_SECONDS',
  tls: 'METRICS_LOG_PUSH_CA_FILE',
} as const satisfies Record<keyof LogPushOptions, string>;

const STRINGS = ['url', 'authToken', 'service', 'version', 'authHeader'];
const INTEGERS = ['batchSize', 'maxQueue'];
const SECONDS = ['flushIntervalSeconds', 'timeoutSeconds', 'maxBackoffSeconds'];

/**
 * The `logPush` fields set by `METRICS_LOG_PUSH_*` variables, each checked and named by its
 * variable; `undefined` when none is set. `METRICS_LOG_PUSH_TAGS` reads `key=value,key=value`;
 * `METRICS_LOG_PUSH_CA_FILE` is the path of a PEM file, read now.
 */
export function logPushEnvironment(
  read: (variable: string) => string | undefined,
): Partial<LogPushOptions> | undefined {
  const fields: Record<string, unknown> = {};
  for (const [field, variable] of Object.entries(LOG_PUSH_VARIABLES)) {
    const value = read(variable);
    if (value === undefined) continue;
    const name = { variable };
    if (STRINGS.includes(field)) fields[field] = value;
    else if (INTEGERS.includes(field))
      fields[field] = positiveInteger(Number(value), name, value);
    else if (SECONDS.includes(field)) fields[field] = seconds(value, name);
    else if (field === 'tags') fields.tags = parseTags(value, variable);
    else fields.tls = { ca: readCaFile(value, variable) };
  }
  return Object.keys(fields).length === 0 ? undefined : fields;
}

/**
 * Checks the `logPush` option and fills in its defaults; `undefined` or `false` turn it off.
 * Failures name the option; none shows the token.
 */
export function resolveLogPush(
  value: unknown,
): ResolvedLogPushOptions | undefined {
  if (value === undefined || value === false) return undefined;
  const given = resolveObject(
    value,
    'logPush',
    KEYS,
    'an object ({ url, authToken, service, … }) or false',
  );
  const url = resolveUrl(given.url);
  if (typeof given.authToken !== 'string' || given.authToken === '') {
    throw new TypeError(
      invalidSecretOptionMessage(
        'logPush.authToken',
        `a non-empty string (or set ${LOG_PUSH_VARIABLES.authToken})`,
        given.authToken,
      ),
    );
  }
  const batchSize = resolveInteger(given.batchSize, 'batchSize', 10);
  const maxQueue = resolveInteger(given.maxQueue, 'maxQueue', 1000);
  if (maxQueue < batchSize) {
    throw invalid(
      'logPush.maxQueue',
      `at least logPush.batchSize (${batchSize})`,
      maxQueue,
    );
  }
  return {
    url,
    authToken: given.authToken,
    service: resolveString(given.service, 'service', undefined),
    version: resolveString(given.version, 'version', 'unknown'),
    batchSize,
    flushIntervalSeconds: resolveSeconds(
      given.flushIntervalSeconds,
      'logPush.flushIntervalSeconds',
      5,
    ),
    maxQueue,
    tags: resolveTags(given.tags),
    authHeader: resolveHeader(given.authHeader),
    timeoutSeconds: resolveSeconds(
      given.timeoutSeconds,
      'logPush.timeoutSeconds',
      5,
    ),
    maxBackoffSeconds: resolveSeconds(
      given.maxBackoffSeconds,
      'logPush.maxBackoffSeconds',
      30,
    ),
    ca: resolveCa(given.tls),
  };
}

/**
 * Code over environment, field by field: the token can stay in the environment while the rest is
 * in code. `false` in code turns the push off whatever the environment says.
 */
export function mergeLogPush(fromEnvironment: unknown, fromCode: unknown) {
  if (fromCode === undefined) return fromEnvironment;
  if (
    fromEnvironment === undefined ||
    fromCode === null ||
    typeof fromCode !== 'object' ||
    Array.isArray(fromCode)
  ) {
    return fromCode;
  }
  const defined = Object.entries(fromCode).filter(([, v]) => v !== undefined);
  return { ...(fromEnvironment as object), ...Object.fromEntries(defined) };
}

function resolveUrl(value: unknown): URL {
  let url: URL | undefined;
  try {
    url = typeof value === 'string' ? new URL(value) : undefined;
  } catch {
    url = undefined;
  }
  if (url === undefined || !['ws:', 'wss:'].includes(url.protocol)) {
    // The URL may carry credentials: name only what it is.
    throw new TypeError(
      invalidSecretOptionMessage(
        'logPush.url',
        `a ws:// or wss:// URL (or set ${LOG_PUSH_VARIABLES.url})`,
        typeof value === 'string' && url !== undefined
          ? `a ${url.protocol} URL`
          : value,
      ),
    );
  }
  return url;
}

function resolveString(
  value: unknown,
  field: 'service' | 'version',
  fallback: string | undefined,
): string {
  if (value === undefined && fallback !== undefined) return fallback;
  if (typeof value !== 'string' || value.trim() === '') {
    throw invalid(
      `logPush.${field}`,
      `a non-empty string (or set ${LOG_PUSH_VARIABLES[field]})`,
      value,
    );
  }
  return value;
}

function resolveInteger(
  value: unknown,
  field: 'batchSize' | 'maxQueue',
  fallback: number,
): number {
  if (value === undefined) return fallback;
  return positiveInteger(value, `logPush.${field}`, value);
}

function positiveInteger(
  value: unknown,
  name: SettingName,
  got: unknown,
): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
    throw invalid(name, 'a whole number of at least 1', got);
  }
  return value;
}

function seconds(value: string, name: { variable: string }): number {
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || parsed <= 0) {
    throw invalid(name, 'a finite number of seconds above 0', value);
  }
  return parsed;
}

function resolveTags(value: unknown): Record<string, string> {
  if (value === undefined) return {};
  const tags = resolveObject(value, 'logPush.tags', undefined);
  for (const [name, tag] of Object.entries(tags)) {
    if (RECORD_TAGS.includes(name)) {
      throw invalid(
        `logPush.tags.${name}`,
        `left out: every record sets ${RECORD_TAGS.join(', ')} itself`,
        name,
      );
    }
    if (typeof tag !== 'string') {
      throw invalid(`logPush.tags.${name}`, 'a string', tag);
    }
  }
  return { ...(tags as Record<string, string>) };
}

function parseTags(value: string, variable: string): Record<string, string> {
  const tags: Record<string, string> = {};
  for (const pair of value.split(',')) {
    const at = pair.indexOf('=');
    const name = pair.slice(0, at).trim();
    if (at < 1 || name === '') {
      throw invalid(
        { variable },
        'a list of key=value pairs separated by commas',
        value,
      );
    }
    tags[name] = pair.slice(at + 1).trim();
  }
  return tags;
}

function resolveHeader(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (
    typeof value !== 'string' ||
    !/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(value)
  ) {
    throw invalid('logPush.authHeader', 'an HTTP header name', value);
  }
  return value.toLowerCase();
}

function resolveCa(value: unknown): ResolvedLogPushOptions['ca'] {
  if (value === undefined) return undefined;
  const tls = resolveObject(value, 'logPush.tls', new Set(['ca']));
  const ca = tls.ca;
  const pem = (item: unknown) =>
    (typeof item === 'string' && item !== '') || Buffer.isBuffer(item);
  if (!(pem(ca) || (Array.isArray(ca) && ca.length > 0 && ca.every(pem)))) {
    throw invalid(
      'logPush.tls.ca',
      'PEM certificate text, a Buffer, or a non-empty list of them',
      ca,
    );
  }
  return ca as ResolvedLogPushOptions['ca'];
}

function readCaFile(path: string, variable: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    throw invalid(
      { variable },
      `the path of a readable PEM file (${(error as NodeJS.ErrnoException).code ?? 'unreadable'})`,
      path,
    );
  }
}
