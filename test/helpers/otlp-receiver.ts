import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';

/**
 * An OTLP/HTTP metrics receiver on loopback, standing in for an OpenTelemetry Collector (none
 * installs here). It decodes `application/x-protobuf` with the field numbers of the official
 * `opentelemetry/proto/metrics/v1/metrics.proto` (and `common.proto`, `resource.proto`) and
 * `application/json` in the official OTLP JSON mapping, into one shape, so both encodings are
 * checked against the same expectations.
 */

export type AttributeValue = string | number | boolean;

export interface ReceivedPoint {
  attributes: Record<string, AttributeValue>;
  startTimeUnixNano: bigint;
  timeUnixNano: bigint;
  /** Sums and gauges. */
  value?: number;
  /** Histograms. */
  count?: number;
  sum?: number;
  bucketCounts?: number[];
  explicitBounds?: number[];
}

export interface ReceivedMetric {
  name: string;
  description: string;
  unit: string;
  kind: 'gauge' | 'sum' | 'histogram' | 'other';
  /** 1 delta, 2 cumulative (sums and histograms). */
  aggregationTemporality?: number;
  isMonotonic?: boolean;
  points: ReceivedPoint[];
}

export interface ReceivedExport {
  path: string;
  headers: IncomingMessage['headers'];
  /** Bytes on the wire (compressed, when gzip). */
  bytes: number;
  encoding: 'protobuf' | 'json';
  resource: Record<string, AttributeValue>;
  scopes: string[];
  metrics: ReceivedMetric[];
}

export interface OtlpReceiver {
  readonly url: string;
  readonly port: number;
  readonly exports: ReceivedExport[];
  /** The status the next exports are answered with (default 200). */
  respondWith(status: number): void;
  close(): Promise<void>;
}

/** Starts the receiver on `port` (0: a free one). */
export async function startOtlpReceiver(port = 0): Promise<OtlpReceiver> {
  const exports: ReceivedExport[] = [];
  let status = 200;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      const body =
        req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw;
      if (status === 200) {
        const json = String(req.headers['content-type']).includes('json');
        exports.push({
          path: req.url ?? '',
          headers: req.headers,
          bytes: raw.length,
          encoding: json ? 'json' : 'protobuf',
          ...(json ? decodeJson(body) : decodeProtobuf(body)),
        });
      }
      res.statusCode = status;
      res.setHeader(
        'content-type',
        String(req.headers['content-type'] ?? 'application/x-protobuf'),
      );
      // An empty ExportMetricsServiceResponse, in either encoding.
      res.end(String(req.headers['content-type']).includes('json') ? '{}' : '');
    });
  });
  await new Promise<void>((resolve) =>
    server.listen(port, '127.0.0.1', resolve),
  );
  const bound = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${bound}/v1/metrics`,
    port: bound,
    exports,
    respondWith(next) {
      status = next;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

// --- protobuf ---------------------------------------------------------------------------------

type Field = { wireType: number; varint?: bigint; bytes?: Buffer };
type Message = Map<number, Field[]>;

function readVarint(buf: Buffer, at: { pos: number }): bigint {
  let result = 0n;
  let shift = 0n;
  for (;;) {
    const byte = buf[at.pos++];
    result |= BigInt(byte & 0x7f) << shift;
    if ((byte & 0x80) === 0) return result;
    shift += 7n;
  }
}

function parseMessage(buf: Buffer): Message {
  const fields: Message = new Map();
  const at = { pos: 0 };
  while (at.pos < buf.length) {
    const tag = Number(readVarint(buf, at));
    const number = tag >>> 3;
    const wireType = tag & 7;
    let field: Field;
    if (wireType === 0) field = { wireType, varint: readVarint(buf, at) };
    else if (wireType === 1) {
      field = { wireType, bytes: buf.subarray(at.pos, at.pos + 8) };
      at.pos += 8;
    } else if (wireType === 2) {
      const length = Number(readVarint(buf, at));
      field = { wireType, bytes: buf.subarray(at.pos, at.pos + length) };
      at.pos += length;
    } else if (wireType === 5) {
      field = { wireType, bytes: buf.subarray(at.pos, at.pos + 4) };
      at.pos += 4;
    } else throw new Error(`unexpected wire type ${wireType}`);
    fields.set(number, [...(fields.get(number) ?? []), field]);
  }
  return fields;
}

const all = (message: Message, number: number) => message.get(number) ?? [];
const one = (message: Message, number: number) => all(message, number)[0];
const str = (message: Message, number: number) =>
  one(message, number)?.bytes?.toString('utf8') ?? '';
const sub = (message: Message, number: number) =>
  all(message, number).map((field) => parseMessage(field.bytes!));
const fixed64 = (field: Field | undefined) =>
  field?.bytes ? field.bytes.readBigUInt64LE(0) : 0n;
const double = (field: Field | undefined) =>
  field?.bytes ? field.bytes.readDoubleLE(0) : undefined;

/** repeated fixed64 / double, packed (one length-delimited field) or not. */
function repeated8(
  message: Message,
  number: number,
  read: (b: Buffer) => number,
): number[] {
  const values: number[] = [];
  for (const field of all(message, number)) {
    const bytes = field.bytes!;
    for (let offset = 0; offset + 8 <= bytes.length; offset += 8)
      values.push(read(bytes.subarray(offset, offset + 8)));
  }
  return values;
}

/** AnyValue: 1 string, 2 bool, 3 int, 4 double. */
function anyValue(message: Message): AttributeValue {
  if (message.has(1)) return str(message, 1);
  if (message.has(2)) return one(message, 2).varint === 1n;
  if (message.has(3)) return Number(BigInt.asIntN(64, one(message, 3).varint!));
  if (message.has(4)) return double(one(message, 4))!;
  return '';
}

/** repeated KeyValue (1 key, 2 value). */
function keyValues(messages: Message[]): Record<string, AttributeValue> {
  const attributes: Record<string, AttributeValue> = {};
  for (const kv of messages)
    attributes[str(kv, 1)] = anyValue(sub(kv, 2)[0] ?? new Map());
  return attributes;
}

/** NumberDataPoint: 7 attributes, 2 start, 3 time, 4 as_double, 6 as_int. */
function numberPoint(point: Message): ReceivedPoint {
  return {
    attributes: keyValues(sub(point, 7)),
    startTimeUnixNano: fixed64(one(point, 2)),
    timeUnixNano: fixed64(one(point, 3)),
    value: point.has(4)
      ? double(one(point, 4))
      : Number(BigInt.asIntN(64, fixed64(one(point, 6)))),
  };
}

/** HistogramDataPoint: 9 attributes, 2 start, 3 time, 4 count, 5 sum, 6 bucket_counts, 7 explicit_bounds. */
function histogramPoint(point: Message): ReceivedPoint {
  return {
    attributes: keyValues(sub(point, 9)),
    startTimeUnixNano: fixed64(one(point, 2)),
    timeUnixNano: fixed64(one(point, 3)),
    count: Number(fixed64(one(point, 4))),
    sum: double(one(point, 5)),
    bucketCounts: repeated8(point, 6, (b) => Number(b.readBigUInt64LE(0))),
    explicitBounds: repeated8(point, 7, (b) => b.readDoubleLE(0)),
  };
}

/**
 * ExportMetricsServiceRequest: 1 resource_metrics. ResourceMetrics: 1 resource (1 attributes),
 * 2 scope_metrics. ScopeMetrics: 1 scope (1 name), 2 metrics. Metric: 1 name, 2 description,
 * 3 unit, 5 gauge, 7 sum, 9 histogram. Gauge/Sum/Histogram: 1 data_points, 2 temporality,
 * 3 is_monotonic (Sum).
 */
function decodeProtobuf(
  body: Buffer,
): Omit<ReceivedExport, 'path' | 'headers' | 'bytes' | 'encoding'> {
  const request = parseMessage(body);
  const resource: Record<string, AttributeValue> = {};
  const scopes: string[] = [];
  const metrics: ReceivedMetric[] = [];
  for (const resourceMetrics of sub(request, 1)) {
    for (const res of sub(resourceMetrics, 1))
      Object.assign(resource, keyValues(sub(res, 1)));
    for (const scopeMetrics of sub(resourceMetrics, 2)) {
      for (const scope of sub(scopeMetrics, 1)) scopes.push(str(scope, 1));
      for (const metric of sub(scopeMetrics, 2)) {
        const base = {
          name: str(metric, 1),
          description: str(metric, 2),
          unit: str(metric, 3),
        };
        const [gauge] = sub(metric, 5);
        const [sum] = sub(metric, 7);
        const [histogram] = sub(metric, 9);
        if (gauge)
          metrics.push({
            ...base,
            kind: 'gauge',
            points: sub(gauge, 1).map(numberPoint),
          });
        else if (sum)
          metrics.push({
            ...base,
            kind: 'sum',
            aggregationTemporality: Number(one(sum, 2)?.varint ?? 0n),
            isMonotonic: one(sum, 3)?.varint === 1n,
            points: sub(sum, 1).map(numberPoint),
          });
        else if (histogram)
          metrics.push({
            ...base,
            kind: 'histogram',
            aggregationTemporality: Number(one(histogram, 2)?.varint ?? 0n),
            points: sub(histogram, 1).map(histogramPoint),
          });
        else metrics.push({ ...base, kind: 'other', points: [] });
      }
    }
  }
  return { resource, scopes, metrics };
}

// --- JSON (OTLP JSON mapping: lowerCamelCase, 64-bit integers as strings) ----------------------

interface JsonKeyValue {
  key: string;
  value: {
    stringValue?: string;
    boolValue?: boolean;
    intValue?: string | number;
    doubleValue?: number;
  };
}

function jsonAttributes(
  kvs: JsonKeyValue[] | undefined,
): Record<string, AttributeValue> {
  const attributes: Record<string, AttributeValue> = {};
  for (const { key, value } of kvs ?? [])
    attributes[key] =
      value.stringValue ??
      value.boolValue ??
      (value.intValue !== undefined
        ? Number(value.intValue)
        : (value.doubleValue ?? ''));
  return attributes;
}

function jsonPoint(point: Record<string, unknown>): ReceivedPoint {
  const numbers = (values: unknown) =>
    ((values as unknown[] | undefined) ?? []).map(Number);
  return {
    attributes: jsonAttributes(point.attributes as JsonKeyValue[]),
    startTimeUnixNano: BigInt(String(point.startTimeUnixNano ?? 0)),
    timeUnixNano: BigInt(String(point.timeUnixNano ?? 0)),
    ...(point.asDouble !== undefined || point.asInt !== undefined
      ? { value: Number(point.asDouble ?? point.asInt) }
      : {}),
    ...(point.bucketCounts !== undefined || point.count !== undefined
      ? {
          count: Number(point.count ?? 0),
          sum: point.sum === undefined ? undefined : Number(point.sum),
          bucketCounts: numbers(point.bucketCounts),
          explicitBounds: numbers(point.explicitBounds),
        }
      : {}),
  };
}

function decodeJson(
  body: Buffer,
): Omit<ReceivedExport, 'path' | 'headers' | 'bytes' | 'encoding'> {
  const request = JSON.parse(body.toString('utf8')) as {
    resourceMetrics?: Array<{
      resource?: { attributes?: JsonKeyValue[] };
      scopeMetrics?: Array<{
        scope?: { name?: string };
        metrics?: Array<Record<string, any>>;
      }>;
    }>;
  };
  const resource: Record<string, AttributeValue> = {};
  const scopes: string[] = [];
  const metrics: ReceivedMetric[] = [];
  for (const resourceMetrics of request.resourceMetrics ?? []) {
    Object.assign(
      resource,
      jsonAttributes(resourceMetrics.resource?.attributes),
    );
    for (const scopeMetrics of resourceMetrics.scopeMetrics ?? []) {
      scopes.push(scopeMetrics.scope?.name ?? '');
      for (const metric of scopeMetrics.metrics ?? []) {
        const base = {
          name: metric.name,
          description: metric.description ?? '',
          unit: metric.unit ?? '',
        };
        const data = metric.gauge ?? metric.sum ?? metric.histogram;
        const kind = metric.gauge
          ? 'gauge'
          : metric.sum
            ? 'sum'
            : metric.histogram
              ? 'histogram'
              : 'other';
        metrics.push({
          ...base,
          kind,
          ...(metric.sum || metric.histogram
            ? {
                aggregationTemporality: Number(
                  data.aggregationTemporality ?? 0,
                ),
              }
            : {}),
          ...(metric.sum ? { isMonotonic: data.isMonotonic === true } : {}),
          points: ((data?.dataPoints as Record<string, unknown>[]) ?? []).map(
            jsonPoint,
          ),
        });
      }
    }
  }
  return { resource, scopes, metrics };
}
