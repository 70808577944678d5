import 'reflect-metadata';
import type { AddressInfo } from 'node:net';
import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import {
  MetricsModule,
  UNMATCHED_ROUTE,
  type ErrorType,
} from '../lib/index.js';
import { HttpFixtureModule } from './fixtures/http-fixture.module.js';
import { ADAPTERS, createApp, type AdapterName } from './helpers/create-app.js';
import {
  eventually,
  find,
  parseSamples,
  sum,
  type Sample,
} from './helpers/metrics-text.js';
import { head, sendRaw, type RawResponse } from './helpers/raw-http.js';
import {
  expectPromtoolAccepts,
  findSystemBinary,
} from './helpers/system-binary.js';

/** A request that reached the app: counted once, with these labels. */
interface Counted {
  counted: true;
  method: string;
  route: string;
  /** The status the client got; `abandoned` when the client closed before any answer. */
  status: number | 'abandoned';
  errorType: ErrorType | undefined;
}

/** Bytes Node's HTTP parser rejects before any 'request' event: not a request, not counted. */
interface Rejected {
  counted: false;
  /** What Node answered, or `undefined` when the client gave up first. */
  status: number | undefined;
}

type Outcome = Counted | Rejected;

interface HostileCase {
  name: string;
  send(port: number): Promise<RawResponse>;
  /** Each adapter's own answer (they differ where Fastify and Express do without the library). */
  outcome: Record<AdapterName, Outcome>;
}

const KIB = 1024;
const both = (outcome: Outcome): Record<AdapterName, Outcome> => ({
  express: outcome,
  fastify: outcome,
});
const counted = (
  method: string,
  route: string,
  status: number | 'abandoned',
  errorType: ErrorType | undefined,
): Counted => ({ counted: true, method, route, status, errorType });
const rejected = (status: number | undefined): Rejected => ({
  counted: false,
  status,
});

/** A complete request with a body, sent in one write. */
function withBody(
  port: number,
  path: string,
  contentType: string,
  body: string | Buffer,
): Promise<RawResponse> {
  const bytes = Buffer.isBuffer(body) ? body : Buffer.from(body);
  return sendRaw(port, [
    head('POST', path, {
      'Content-Type': contentType,
      'Content-Length': bytes.length,
    }),
    bytes,
  ]);
}

const get = (port: number, target: string, headers = {}) =>
  sendRaw(port, [head('GET', target, headers)]);

const CASES: HostileCase[] = [
  {
    name: 'malformed JSON',
    send: (port) => withBody(port, '/items/raw', 'application/json', '{"a":'),
    outcome: both(counted('POST', '/items/raw', 400, 'deserialization')),
  },
  {
    name: 'JSON with a __proto__ key',
    send: (port) =>
      withBody(
        port,
        '/items/raw',
        'application/json',
        '{"__proto__":{"polluted":true}}',
      ),
    outcome: {
      // body-parser drops nothing and JSON.parse makes it an own property; Fastify refuses it.
      express: counted('POST', '/items/raw', 200, undefined),
      fastify: counted('POST', '/items/raw', 400, 'deserialization'),
    },
  },
  {
    name: 'an empty JSON body',
    send: (port) => withBody(port, '/items/raw', 'application/json', ''),
    outcome: {
      // body-parser reads an empty JSON body as {}; Fastify refuses it.
      express: counted('POST', '/items/raw', 200, undefined),
      fastify: counted('POST', '/items/raw', 400, 'deserialization'),
    },
  },
  {
    name: 'a body over the size limit (2 MiB)',
    send: (port) =>
      withBody(
        port,
        '/items/raw',
        'application/json',
        JSON.stringify({ pad: 'x'.repeat(2048 * KIB) }),
      ),
    outcome: both(counted('POST', '/items/raw', 413, 'client_error')),
  },
  {
    name: 'a Content-Length larger than the body, then close',
    send: (port) =>
      sendRaw(
        port,
        [
          head('POST', '/items/raw', {
            'Content-Type': 'application/json',
            'Content-Length': 100,
          }),
          '{"a":1',
        ],
        { abandonAfterMs: 100 },
      ),
    outcome: both(counted('POST', '/items/raw', 'abandoned', 'aborted')),
  },
  {
    name: 'a slow body the client abandons (slowloris)',
    send: (port) =>
      sendRaw(
        port,
        [
          head('POST', '/items/raw', {
            'Content-Type': 'application/json',
            'Content-Length': 1000,
          }),
          '{',
          '"',
          'a',
          '"',
        ],
        { pauseMs: 100, abandonAfterMs: 100 },
      ),
    outcome: both(counted('POST', '/items/raw', 'abandoned', 'aborted')),
  },
  {
    name: 'an unsupported content type',
    send: (port) => withBody(port, '/items/raw', 'application/xml', '<a/>'),
    outcome: {
      // Express's parsers skip a type they do not handle; Fastify answers 415.
      express: counted('POST', '/items/raw', 200, undefined),
      fastify: counted('POST', '/items/raw', 415, 'client_error'),
    },
  },
  {
    name: 'JSON in an unsupported charset',
    send: (port) =>
      withBody(
        port,
        '/items/raw',
        'application/json; charset=latin1',
        '{"a":1}',
      ),
    outcome: {
      // body-parser reads JSON in UTF charsets only; Fastify ignores the charset.
      express: counted('POST', '/items/raw', 415, 'deserialization'),
      fastify: counted('POST', '/items/raw', 200, undefined),
    },
  },
  {
    name: 'an unsupported Content-Encoding',
    send: (port) =>
      sendRaw(port, [
        head('POST', '/items/raw', {
          'Content-Type': 'application/json',
          'Content-Encoding': 'x-unknown',
          'Content-Length': 7,
        }),
        '{"a":1}',
      ]),
    outcome: {
      express: counted('POST', '/items/raw', 415, 'deserialization'),
      fastify: counted('POST', '/items/raw', 200, undefined),
    },
  },
  {
    name: 'a gzip Content-Encoding over a body that is not gzip',
    send: (port) =>
      sendRaw(port, [
        head('POST', '/items/raw', {
          'Content-Type': 'application/json',
          'Content-Encoding': 'gzip',
          'Content-Length': 7,
        }),
        '{"a":1}',
      ]),
    outcome: {
      express: counted('POST', '/items/raw', 400, 'deserialization'),
      fastify: counted('POST', '/items/raw', 200, undefined),
    },
  },
  {
    name: 'a header flood (1000 headers)',
    send: (port) => {
      const headers: Record<string, string> = {};
      for (let i = 0; i < 1000; i++) headers[`X-Flood-${i}`] = 'y'.repeat(16);
      return get(port, '/items', headers);
    },
    outcome: both(rejected(431)),
  },
  {
    name: 'one huge header (32 KiB)',
    send: (port) => get(port, '/items', { Cookie: 'c'.repeat(32 * KIB) }),
    outcome: both(rejected(431)),
  },
  {
    name: 'a URL longer than the header limit (32 KiB)',
    send: (port) => get(port, `/items/${'9'.repeat(32 * KIB)}`),
    outcome: both(rejected(431)),
  },
  {
    name: 'a very long URL under the header limit (8 KiB)',
    send: (port) => get(port, `/random/${'x'.repeat(8 * KIB)}`),
    outcome: both(counted('GET', UNMATCHED_ROUTE, 404, 'not_found')),
  },
  {
    name: 'a very long route parameter (8 KiB)',
    send: (port) => get(port, `/items/${'9'.repeat(8 * KIB)}`),
    outcome: {
      express: counted('GET', '/items/:id', 400, 'validation'),
      // find-my-way refuses parameters over maxParamLength (100) before routing.
      fastify: counted('GET', UNMATCHED_ROUTE, 414, 'client_error'),
    },
  },
  {
    name: 'malformed percent-encoding',
    send: (port) => get(port, '/items/%E0%A4%A'),
    outcome: {
      express: counted('GET', '/items/:id', 400, 'client_error'),
      // Fastify refuses the URL before routing.
      fastify: counted('GET', UNMATCHED_ROUTE, 400, 'client_error'),
    },
  },
  {
    name: 'path traversal',
    send: (port) => get(port, '/../../etc/passwd'),
    outcome: both(counted('GET', UNMATCHED_ROUTE, 404, 'not_found')),
  },
  {
    name: 'percent-encoded path traversal',
    send: (port) => get(port, '/%2e%2e/%2e%2e/etc/passwd'),
    outcome: both(counted('GET', UNMATCHED_ROUTE, 404, 'not_found')),
  },
  {
    name: 'path traversal inside a route parameter',
    send: (port) => get(port, '/items/..%2F..%2Fetc%2Fpasswd'),
    outcome: both(counted('GET', '/items/:id', 400, 'validation')),
  },
  {
    name: 'a malformed request line',
    send: (port) => sendRaw(port, ['GARBAGE\r\n\r\n']),
    outcome: both(rejected(400)),
  },
  {
    name: 'a header name with a space',
    send: (port) =>
      sendRaw(port, [
        'GET /items HTTP/1.1\r\nHost: x\r\nBad Header: 1\r\n\r\n',
      ]),
    outcome: both(rejected(400)),
  },
  {
    name: 'both Content-Length and Transfer-Encoding (request smuggling)',
    send: (port) =>
      sendRaw(port, [
        'POST /items/raw HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
      ]),
    outcome: both(rejected(400)),
  },
  {
    name: 'a request head the client never finishes',
    send: (port) =>
      sendRaw(
        port,
        ['GET /items HTTP/1.1\r\n', 'Host: x\r\n', 'X-Slow: 1\r\n'],
        {
          pauseMs: 100,
          abandonAfterMs: 100,
        },
      ),
    outcome: both(rejected(undefined)),
  },
];

const promtool = findSystemBinary(
  'promtool',
  'prometheus',
  'the promtool check',
);

describe.each(ADAPTERS)('Hostile input on %s', (adapter) => {
  let app: INestApplication;
  let bare: INestApplication;

  beforeEach(async () => {
    app = await createApp(
      {
        imports: [
          MetricsModule.forRoot({ defaultMetrics: false }),
          HttpFixtureModule,
        ],
      },
      undefined,
      adapter,
    );
    bare = await createApp(
      { imports: [HttpFixtureModule] },
      undefined,
      adapter,
    );
    await app.listen(0, '127.0.0.1');
    await bare.listen(0, '127.0.0.1');
  });

  afterEach(async () => {
    await app.close();
    await bare.close();
  });

  it.each(CASES.map((c) => [c.name, c] as const))(
    '%s',
    async (_name, hostile) => {
      const expected = hostile.outcome[adapter];
      const answer = await hostile.send(portOf(app));
      const bareAnswer = await hostile.send(portOf(bare));

      const wantStatus =
        expected.counted && expected.status === 'abandoned'
          ? undefined
          : expected.status;
      expect(answer.status).toBe(wantStatus);
      expect(bareAnswer.status).toBe(answer.status);

      const samples = await eventually(async () => {
        const s = await scrapeChecked(app);
        expect(sum(s, 'concurrent_requests', { transport: 'http' })).toBe(0);
        if (expected.counted) expect(sum(s, 'requests_total')).toBe(1);
        return s;
      });
      if (!expected.counted) {
        expect(find(samples, 'requests_total')).toHaveLength(0);
        expect(find(samples, 'errors_total')).toHaveLength(0);
        return;
      }
      const series = {
        transport: 'http',
        method: expected.method,
        route: expected.route,
      };
      const status =
        expected.status === 'abandoned' ? '499' : String(expected.status);
      expect(find(samples, 'requests_total')).toEqual([
        {
          name: 'requests_total',
          labels: { ...series, status },
          value: 1,
        },
      ]);
      expect(
        find(samples, 'errors_total').map((s) => [
          s.labels.error_type,
          s.labels.route,
          s.value,
        ]),
      ).toEqual(
        expected.errorType === undefined
          ? []
          : [[expected.errorType, expected.route, 1]],
      );
      expect(
        sum(samples, 'request_duration_seconds_count', { ...series, status }),
      ).toBe(1);
    },
  );
});

function portOf(app: INestApplication): number {
  return (app.getHttpServer().address() as AddressInfo).port;
}

/** Scrapes over HTTP, parses every line and, where promtool is installed, has it check the text. */
async function scrapeChecked(app: INestApplication): Promise<Sample[]> {
  const text = (await request(app.getHttpServer()).get('/metrics').expect(200))
    .text;
  const samples = parseSamples(text);
  expectPromtoolAccepts(promtool, text);
  return samples;
}
