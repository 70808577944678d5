import 'reflect-metadata';
import { spawnSync } from 'node:child_process';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { inspect } from 'node:util';
import { gunzipSync } from 'node:zlib';
import type { INestApplication, LoggerService } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import type { Registry } from 'prom-client';
import request from 'supertest';
import {
  METRICS_REGISTRY,
  MetricsModule,
  MetricsService,
  type MetricsModuleOptions,
} from '../lib/index.js';
import { METRICS_RESOLVED_OPTIONS } from '../lib/metrics.constants.js';
import { MetricsEndpoint } from '../lib/scrape/metrics-endpoint.js';
import { HttpFixtureModule } from './fixtures/http-fixture.module.js';
import { createApp } from './helpers/create-app.js';
import { find, parseSamples, sum } from './helpers/metrics-text.js';
import { listen, rawRequest } from './helpers/exact-request.js';
import { findSystemBinary } from './helpers/system-binary.js';

const TEXT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';
const OPENMETRICS_TYPE =
  'application/openmetrics-text; version=1.0.0; charset=utf-8';
const PROMETHEUS_ACCEPT =
  'application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1';

/** Requests that leave every request family with series, errors and histogram included. */
async function recordTraffic(
  app: INestApplication,
  gaugeHelp = 'Jobs waiting.',
): Promise<void> {
  const server = app.getHttpServer();
  await request(server).get('/items').expect(200);
  await request(server).get('/items/1').expect(200);
  await request(server).get('/nope').expect(404);
  await request(server).get('/admin').expect(401);
  await request(server).get('/boom').expect(500);
  await request(server)
    .post('/items')
    .send({ name: 'x', quantity: 0 })
    .expect(400);
  const metrics = app.get(MetricsService);
  metrics.counter('orders_total', { labelNames: ['product'] }).inc(
    {
      product: 'a"b\\c\nd',
    },
    3,
  );
  metrics.gauge('queue_depth', { help: gaugeHelp }).set(7);
  metrics
    .histogram('job_seconds', { labelNames: ['job'], buckets: [0.1, 1] })
    .observe({ job: 'mail' }, 0.5);
  metrics.summary('payload_bytes', { percentiles: [0.5, 0.9] }).observe(512);
}

/** Families the module and the traffic above must have filled. */
const EXPECTED_SAMPLES = [
  'requests_total',
  'request_bytes_total',
  'response_bytes_total',
  'request_duration_seconds_bucket',
  'request_duration_seconds_sum',
  'request_duration_seconds_count',
  'concurrent_requests',
  'errors_total',
  'uptime_seconds',
  'orders_total',
  'queue_depth',
  'job_seconds_bucket',
  'payload_bytes',
  'process_cpu_user_seconds_total',
  'nodejs_heap_size_used_bytes',
];

/** `promtool check metrics` problems, one per line ('' when the input is clean). */
function promtoolProblems(promtool: string, text: string): string {
  const result = spawnSync(promtool, ['check', 'metrics'], {
    input: text,
    encoding: 'utf8',
  });
  if (result.status !== 0 && result.status !== 3)
    throw new Error(`promtool failed: ${result.stderr}`);
  return `${result.stdout}${result.stderr}`.trim();
}

function requestSeries(text: string) {
  return parseSamples(text)
    .filter((s) =>
      /^(requests_total|request_bytes_total|response_bytes_total|request_duration_seconds_\w+|errors_total|orders_total|queue_depth|job_seconds_\w+)$/.test(
        s.name,
      ),
    )
    .map((s) => `${s.name}${JSON.stringify(s.labels)} ${s.value}`)
    .sort();
}

describe('Scrape format negotiation', () => {
  let app: INestApplication;
  let url: string;

  beforeAll(async () => {
    app = await createApp({
      imports: [MetricsModule.forRoot(), HttpFixtureModule],
    });
    await recordTraffic(app);
    url = `${await listen(app)}/metrics`;
  });
  afterAll(() => app.close());

  it.each<[string, string | undefined, string]>([
    ['no Accept', undefined, TEXT_TYPE],
    ['*/*', '*/*', TEXT_TYPE],
    ['malformed', 'garbage;;;', TEXT_TYPE],
    ['malformed q', 'application/openmetrics-text;q=2', TEXT_TYPE],
    ['unquoted space', 'application/openmetrics-text;version=1 .0', TEXT_TYPE],
    ['text/plain', 'text/plain', TEXT_TYPE],
    ['text/plain 0.0.4', 'text/plain;version=0.0.4', TEXT_TYPE],
    ["Prometheus' header", PROMETHEUS_ACCEPT, OPENMETRICS_TYPE],
    ['openmetrics alone', 'application/openmetrics-text', OPENMETRICS_TYPE],
    [
      'openmetrics with charset and escaping',
      'application/openmetrics-text; version="1.0.0"; charset=UTF-8; escaping=underscores',
      OPENMETRICS_TYPE,
    ],
    ['application/*', 'application/*', OPENMETRICS_TYPE],
    [
      'openmetrics weighed higher',
      'text/plain;q=0.2, application/openmetrics-text;version=1.0.0;q=0.3',
      OPENMETRICS_TYPE,
    ],
    [
      'openmetrics weighed lower',
      'application/openmetrics-text;q=0.2, text/plain;q=0.3',
      TEXT_TYPE,
    ],
    [
      'a tie',
      'application/openmetrics-text;q=0.5, text/plain;q=0.5',
      TEXT_TYPE,
    ],
    ['openmetrics q=0', 'application/openmetrics-text;q=0, */*', TEXT_TYPE],
    ['text q=0', 'text/plain;q=0, */*;q=0.1', OPENMETRICS_TYPE],
    [
      'openmetrics 0.0.1 only',
      'application/openmetrics-text;version=0.0.1',
      TEXT_TYPE,
    ],
    [
      'one malformed element among good ones',
      'application/openmetrics-text;q=abc, text/plain;q=0.1, application/*;q=0.5',
      OPENMETRICS_TYPE,
    ],
  ])('%s: serves the right format', async (_case, accept, contentType) => {
    const response = await rawRequest(
      url,
      accept === undefined ? {} : { accept },
    );
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toBe(contentType);
    expect(response.headers.vary).toBe('Accept, Accept-Encoding');
    expect(response.headers['cache-control']).toBe('no-store');
    expect(response.headers['content-encoding']).toBeUndefined();
    const text = response.body.toString('utf8');
    expect(Number(response.headers['content-length'])).toBe(
      response.body.length,
    );
    if (contentType === OPENMETRICS_TYPE) {
      expect(text.endsWith('\n# EOF\n')).toBe(true);
      expect(text).toMatch(/^# TYPE requests counter$/m);
      expect(text).not.toMatch(/^# TYPE requests_total /m);
    } else {
      expect(text).not.toContain('# EOF');
      expect(text).toMatch(/^# TYPE requests_total counter$/m);
    }
    expect(sum(parseSamples(text), 'requests_total')).toBe(6);
  });

  it('serves the same series in both formats', async () => {
    const text = (await rawRequest(url)).body.toString('utf8');
    const openMetrics = (
      await rawRequest(url, { accept: PROMETHEUS_ACCEPT })
    ).body.toString('utf8');
    expect(requestSeries(openMetrics)).toEqual(requestSeries(text));
    expect(requestSeries(text).length).toBeGreaterThan(40);
  });

  it('keeps every counter named as it was, whatever formats concurrent scrapes ask for', async () => {
    const accepts = Array.from({ length: 24 }, (_, i) =>
      i % 2 === 0 ? PROMETHEUS_ACCEPT : 'text/plain',
    );
    const bodies = await Promise.all(
      accepts.map(async (accept) => ({
        accept,
        text: (await rawRequest(url, { accept })).body.toString('utf8'),
      })),
    );
    for (const { accept, text } of bodies) {
      const openMetrics = accept === PROMETHEUS_ACCEPT;
      expect(/^# TYPE requests_total counter$/m.test(text)).toBe(!openMetrics);
      expect(/^# TYPE requests counter$/m.test(text)).toBe(openMetrics);
      expect(text.endsWith('# EOF\n')).toBe(openMetrics);
      expect(sum(parseSamples(text), 'requests_total')).toBe(6);
      expect(sum(parseSamples(text), 'orders_total')).toBe(3);
    }
    const registry = app.get<Registry>(METRICS_REGISTRY);
    for (const name of [
      'requests_total',
      'errors_total',
      'orders_total',
      'process_cpu_user_seconds_total',
    ]) {
      expect((registry.getSingleMetric(name) as { name?: string })?.name).toBe(
        name,
      );
    }
    expect(registry.contentType).toBe(TEXT_TYPE);
    expect(await app.get(MetricsService).metrics()).toMatch(
      /^# TYPE requests_total counter$/m,
    );
  });

  it('escapes quotes in HELP in OpenMetrics only, as each format requires', async () => {
    app.get(MetricsService).gauge('quoted_help', {
      help: 'Jobs "waiting" \\ queued\non two lines.',
    });
    const text = (await rawRequest(url)).body.toString('utf8');
    const openMetrics = (
      await rawRequest(url, { accept: PROMETHEUS_ACCEPT })
    ).body.toString('utf8');
    expect(text).toContain(
      '# HELP quoted_help Jobs "waiting" \\\\ queued\\non two lines.\n',
    );
    expect(openMetrics).toContain(
      '# HELP quoted_help Jobs \\"waiting\\" \\\\ queued\\non two lines.\n',
    );
  });

  it('answers HEAD with the headers of GET and no body', async () => {
    const head = await rawRequest(url, { accept: PROMETHEUS_ACCEPT }, 'HEAD');
    expect(head.status).toBe(200);
    expect(head.headers['content-type']).toBe(OPENMETRICS_TYPE);
    expect(head.headers.vary).toBe('Accept, Accept-Encoding');
    expect(Number(head.headers['content-length'])).toBeGreaterThan(1000);
    expect(head.body).toHaveLength(0);
  });

  it('does not serve other methods on the app route', async () => {
    for (const method of ['POST', 'PUT', 'DELETE']) {
      const response = await rawRequest(url, {}, method);
      expect(response.status).toBe(404);
      expect(response.body.toString()).not.toContain('requests_total');
    }
  });

  it('answers other methods with 405 when handle() is called directly (dedicated port)', async () => {
    const endpoint = app.get(MetricsEndpoint);
    const server = createServer((req, res) => void endpoint.handle(req, res));
    await new Promise<void>((resolve) =>
      server.listen(0, '127.0.0.1', resolve),
    );
    try {
      const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
      const post = await rawRequest(base, {}, 'POST');
      expect(post.status).toBe(405);
      expect(post.headers.allow).toBe('GET, HEAD');
      expect(post.body.toString()).toBe('method not allowed\n');
      const get = await rawRequest(base, { accept: PROMETHEUS_ACCEPT });
      expect(get.status).toBe(200);
      expect(get.headers['content-type']).toBe(OPENMETRICS_TYPE);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('adds to a Vary header set before the endpoint ran', async () => {
    const endpoint = app.get(MetricsEndpoint);
    const server = createServer((req, res) => {
      res.setHeader('Vary', 'Origin');
      void endpoint.handle(req, res);
    });
    await new Promise<void>((resolve) =>
      server.listen(0, '127.0.0.1', resolve),
    );
    try {
      const port = (server.address() as AddressInfo).port;
      const response = await rawRequest(`http://127.0.0.1:${port}/`);
      expect(response.headers.vary).toBe('Origin, Accept, Accept-Encoding');
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

describe('Scrape compression', () => {
  let app: INestApplication;
  let url: string;

  beforeAll(async () => {
    app = await createApp({
      imports: [
        MetricsModule.forRoot({ defaultMetrics: false }),
        HttpFixtureModule,
      ],
    });
    await recordTraffic(app);
    url = `${await listen(app)}/metrics`;
  });
  afterAll(() => app.close());

  const withoutUptime = (text: string) =>
    text.replace(/^uptime_seconds .*$/m, 'uptime_seconds X');

  it.each<[string, string | undefined, boolean]>([
    ['no Accept-Encoding', undefined, false],
    ['gzip', 'gzip', true],
    ['a browser list', 'gzip, deflate, br, zstd', true],
    ['x-gzip', 'x-gzip', true],
    ['*', '*', true],
    ['gzip;q=0', 'gzip;q=0', false],
    ['gzip;q=0 with *', 'gzip;q=0, *', false],
    ['identity only', 'identity', false],
    ['identity preferred', 'gzip;q=0.5, identity', false],
    ['identity refused', 'identity;q=0, gzip;q=0.1', true],
    ['*;q=0 and identity', '*;q=0, identity', false],
    ['br only', 'br', false],
    ['malformed', 'gzip;q=x', false],
    ['empty', '', false],
  ])('%s', async (_case, acceptEncoding, gzipped) => {
    const headers: Record<string, string> = { accept: PROMETHEUS_ACCEPT };
    if (acceptEncoding !== undefined)
      headers['accept-encoding'] = acceptEncoding;
    const response = await rawRequest(url, headers);
    const identity = (await rawRequest(url, { accept: PROMETHEUS_ACCEPT }))
      .body;
    expect(response.status).toBe(200);
    expect(response.headers.vary).toBe('Accept, Accept-Encoding');
    expect(Number(response.headers['content-length'])).toBe(
      response.body.length,
    );
    expect(response.headers['content-type']).toBe(OPENMETRICS_TYPE);
    if (gzipped) {
      expect(response.headers['content-encoding']).toBe('gzip');
      expect(response.body.subarray(0, 2)).toEqual(Buffer.from([0x1f, 0x8b]));
      const text = gunzipSync(response.body).toString('utf8');
      expect(withoutUptime(text)).toBe(
        withoutUptime(identity.toString('utf8')),
      );
      expect(response.body.length).toBeLessThan(identity.length);
    } else {
      expect(response.headers['content-encoding']).toBeUndefined();
      expect(withoutUptime(response.body.toString('utf8'))).toBe(
        withoutUptime(identity.toString('utf8')),
      );
    }
  });

  it('gzips the text format too', async () => {
    const response = await rawRequest(url, { 'accept-encoding': 'gzip' });
    expect(response.headers['content-type']).toBe(TEXT_TYPE);
    expect(response.headers['content-encoding']).toBe('gzip');
    const samples = parseSamples(gunzipSync(response.body).toString('utf8'));
    expect(sum(samples, 'requests_total')).toBe(6);
    expect(sum(samples, 'errors_total')).toBe(4);
  });
});

describe('Scrape output checked by promtool', () => {
  const promtool = findSystemBinary('promtool', 'prometheus', 'its checks');

  (promtool ? it : it.skip)(
    'passes promtool check metrics in both formats after traffic of every kind',
    async () => {
      const app = await createApp({
        imports: [
          MetricsModule.forRoot({ defaultLabels: { service: 'api' } }),
          HttpFixtureModule,
        ],
      });
      try {
        await recordTraffic(app);
        const url = `${await listen(app)}/metrics`;
        const text = (
          await rawRequest(url, { accept: 'text/plain' })
        ).body.toString('utf8');
        const openMetrics = gunzipSync(
          (
            await rawRequest(url, {
              accept: PROMETHEUS_ACCEPT,
              'accept-encoding': 'gzip',
            })
          ).body,
        ).toString('utf8');
        for (const body of [text, openMetrics]) {
          const samples = parseSamples(body);
          for (const name of EXPECTED_SAMPLES)
            expect([name, find(samples, name).length > 0]).toEqual([
              name,
              true,
            ]);
          expect(sum(samples, 'errors_total', { error_type: 'internal' })).toBe(
            1,
          );
          expect(
            sum(samples, 'errors_total', { error_type: 'validation' }),
          ).toBe(1);
          expect(sum(samples, 'request_duration_seconds_count')).toBe(6);
          expect(samples.every((s) => s.labels.service === 'api')).toBe(true);
        }

        expect(promtoolProblems(promtool!, text)).toBe('');

        // promtool check metrics reads the Prometheus text format only: to it an OpenMetrics
        // counter family `x` (samples `x_total`) is a typed family without samples followed by
        // an untyped `x_total` without HELP. Exactly those lines are expected, nothing else.
        const counters = [
          ...openMetrics.matchAll(/^# TYPE (\S+) counter$/gm),
        ].map((m) => `${m[1]}_total no help text`);
        expect(counters.length).toBeGreaterThan(5);
        expect(
          promtoolProblems(promtool!, openMetrics).split('\n').sort(),
        ).toEqual(counters.sort());
        expect(openMetrics.endsWith('\n# EOF\n')).toBe(true);
      } finally {
        await app.close();
      }
    },
  );
});

/** Collects every line the app logs. */
class CapturingLogger implements LoggerService {
  readonly lines: string[] = [];
  private add(level: string, message: unknown, rest: unknown[]) {
    this.lines.push(
      [level, message, ...rest]
        .map((part) => (typeof part === 'string' ? part : inspect(part)))
        .join(' '),
    );
  }
  log(message: unknown, ...rest: unknown[]) {
    this.add('log', message, rest);
  }
  error(message: unknown, ...rest: unknown[]) {
    this.add('error', message, rest);
  }
  warn(message: unknown, ...rest: unknown[]) {
    this.add('warn', message, rest);
  }
  debug(message: unknown, ...rest: unknown[]) {
    this.add('debug', message, rest);
  }
  verbose(message: unknown, ...rest: unknown[]) {
    this.add('verbose', message, rest);
  }
}

async function createLoggedApp(
  options: MetricsModuleOptions,
  logger: CapturingLogger,
): Promise<INestApplication> {
  const moduleRef = await Test.createTestingModule({
    imports: [MetricsModule.forRoot(options), HttpFixtureModule],
  }).compile();
  const app = moduleRef.createNestApplication({ logger });
  await app.init();
  return app;
}

const basic = (credentials: string) =>
  `Basic ${Buffer.from(credentials, 'utf8').toString('base64')}`;

/** A refusal says nothing about the metrics. */
function expectRefused(response: request.Response, challenge: string): void {
  expect(response.status).toBe(401);
  expect(response.headers['www-authenticate']).toBe(challenge);
  expect(response.headers['content-type']).toBe('text/plain; charset=utf-8');
  expect(response.headers['cache-control']).toBe('no-store');
  expect(response.text).toBe('unauthorized\n');
}

describe('Scrape auth', () => {
  const TOKEN = 'tok-9f8e7d6c5b4a';
  const BEARER = 'Bearer realm="metrics"';
  const BASIC = 'Basic realm="metrics", charset="UTF-8"';

  it('bearer: serves the right token, refuses a wrong, missing or other-scheme one', async () => {
    const app = await createApp({
      imports: [
        MetricsModule.forRoot({ auth: { bearer: TOKEN } }),
        HttpFixtureModule,
      ],
    });
    try {
      const server = app.getHttpServer();
      await recordTraffic(app);
      const ok = await request(server)
        .get('/metrics')
        .set('Authorization', `Bearer ${TOKEN}`)
        .expect(200);
      expect(sum(parseSamples(ok.text), 'requests_total')).toBe(6);
      await request(server)
        .get('/metrics')
        .set('Authorization', `bearer ${TOKEN}`)
        .expect(200);
      for (const authorization of [
        undefined,
        `Bearer ${TOKEN}x`,
        `Bearer ${TOKEN.slice(0, -1)}`,
        'Bearer',
        'Bearer ',
        `Bearer ${TOKEN} extra`,
        `Basic ${TOKEN}`,
        basic(`user:${TOKEN}`),
        TOKEN,
      ]) {
        const call = request(server).get('/metrics');
        if (authorization !== undefined)
          call.set('Authorization', authorization);
        expectRefused(await call, BEARER);
      }
      const head = await request(server).head('/metrics');
      expect(head.status).toBe(401);
      expect(head.headers['www-authenticate']).toBe(BEARER);
    } finally {
      await app.close();
    }
  });

  it('basic: serves the right pair (UTF-8 too), refuses wrong, missing, other-scheme and malformed credentials', async () => {
    const app = await createApp({
      imports: [
        MetricsModule.forRoot({
          auth: { username: 'prometheus', password: 'pä ss:wörd' },
        }),
        HttpFixtureModule,
      ],
    });
    try {
      const server = app.getHttpServer();
      await request(server).get('/items').expect(200);
      const ok = await request(server)
        .get('/metrics')
        .set('Authorization', basic('prometheus:pä ss:wörd'))
        .expect(200);
      expect(sum(parseSamples(ok.text), 'requests_total')).toBe(1);
      for (const authorization of [
        undefined,
        basic('prometheus:pä ss:wörd '),
        basic('prometheus:wrong'),
        basic('Prometheus:pä ss:wörd'),
        basic('prometheus'),
        basic(':pä ss:wörd'),
        `Bearer ${Buffer.from('prometheus:pä ss:wörd').toString('base64')}`,
        'Basic !!!not-base64!!!',
        'Basic cHJvbWV0aGV1cw', // no padding
        `Basic ${Buffer.from([0x70, 0x3a, 0xff, 0xfe]).toString('base64')}`, // not UTF-8
        'Basic',
      ]) {
        const call = request(server).get('/metrics');
        if (authorization !== undefined)
          call.set('Authorization', authorization);
        expectRefused(await call, BASIC);
      }
    } finally {
      await app.close();
    }
  });

  it('function: serves when it returns true (sync or async), refuses false and non-boolean answers', async () => {
    const seen: string[] = [];
    const app = await createApp({
      imports: [
        MetricsModule.forRoot({
          auth: async (req: IncomingMessage) => {
            seen.push(req.url ?? '');
            const key = req.headers['x-scrape-key'];
            if (key === 'async-yes') return true;
            if (key === 'truthy') return 'yes' as unknown as boolean;
            return false;
          },
        }),
        HttpFixtureModule,
      ],
    });
    const syncApp = await createApp({
      imports: [
        MetricsModule.forRoot({
          auth: (req) => req.socket.remoteAddress === '127.0.0.1',
        }),
      ],
    });
    try {
      const server = app.getHttpServer();
      await request(server)
        .get('/metrics?x=1')
        .set('X-Scrape-Key', 'async-yes')
        .expect(200);
      expectRefused(
        await request(server).get('/metrics').set('X-Scrape-Key', 'no'),
        BEARER,
      );
      expectRefused(
        await request(server).get('/metrics').set('X-Scrape-Key', 'truthy'),
        BEARER,
      );
      expectRefused(await request(server).get('/metrics'), BEARER);
      expect(seen).toEqual([
        '/metrics?x=1',
        '/metrics',
        '/metrics',
        '/metrics',
      ]);
      const url = await listen(syncApp);
      expect((await rawRequest(`${url}/metrics`)).status).toBe(200);
    } finally {
      await app.close();
      await syncApp.close();
    }
  });

  it.each<[string, () => never | Promise<never>]>([
    [
      'throws',
      () => {
        throw new TypeError(`cannot check ${TOKEN}`);
      },
    ],
    ['rejects', () => Promise.reject(new RangeError(`bad ${TOKEN}`))],
    ['rejects with a string', () => Promise.reject(TOKEN)],
  ])(
    'function that %s: 500 without details, one log line without the secret',
    async (_case, check) => {
      const logger = new CapturingLogger();
      const app = await createLoggedApp({ auth: check }, logger);
      try {
        await request(app.getHttpServer()).get('/items').expect(200);
        const before = logger.lines.length;
        const response = await request(app.getHttpServer())
          .get('/metrics')
          .set('Authorization', `Bearer ${TOKEN}`);
        expect(response.status).toBe(500);
        expect(response.text).toBe('metrics unavailable\n');
        expect(response.headers['www-authenticate']).toBeUndefined();
        const logged = logger.lines.slice(before);
        expect(logged).toHaveLength(1);
        expect(logged[0]).toMatch(/^error The metrics auth function failed \(/);
        expect(logged[0]).not.toContain('\n');
        expect(logger.lines.join('\n')).not.toContain(TOKEN);
      } finally {
        await app.close();
      }
    },
  );

  it('keeps secrets out of logs, the metrics output and the resolved options', async () => {
    const password = 'pw-5e4d3c2b1a';
    for (const auth of [
      { bearer: TOKEN },
      { username: 'scraper', password },
    ] as const) {
      const logger = new CapturingLogger();
      const app = await createLoggedApp({ auth }, logger);
      try {
        const server = app.getHttpServer();
        const good =
          'bearer' in auth ? `Bearer ${TOKEN}` : basic(`scraper:${password}`);
        // The secret also travels to app routes and in a query string.
        await request(server)
          .get('/items')
          .set('Authorization', good)
          .expect(200);
        await request(server)
          .get(`/nope?token=${TOKEN}&password=${password}`)
          .set('Authorization', good)
          .expect(404);
        await request(server)
          .get('/metrics')
          .set('Authorization', `${good}x`)
          .expect(401);
        const text = (
          await request(server)
            .get('/metrics')
            .set('Authorization', good)
            .set('Accept', PROMETHEUS_ACCEPT)
            .expect(200)
        ).text;
        const textFormat = (
          await request(server).get('/metrics').set('Authorization', good)
        ).text;
        expect(sum(parseSamples(text), 'requests_total')).toBe(2);
        for (const output of [
          text,
          textFormat,
          logger.lines.join('\n'),
          inspect(app.get(METRICS_RESOLVED_OPTIONS), { depth: 5 }),
          JSON.stringify(app.get(METRICS_RESOLVED_OPTIONS)),
        ]) {
          expect(output).not.toContain(TOKEN);
          expect(output).not.toContain(password);
          expect(output).not.toContain(
            Buffer.from(`scraper:${password}`).toString('base64'),
          );
        }
        expect(logger.lines.length).toBeGreaterThan(0);
      } finally {
        await app.close();
      }
    }
  });

  it.each<[string, unknown, RegExp]>([
    [
      'a string',
      'tok-Zq9-1',
      /option "auth" must be .*; got a string \(value not shown\)/,
    ],
    [
      'an empty bearer',
      { bearer: '' },
      /option "auth.bearer" must be a non-empty string without spaces; got an empty string/,
    ],
    [
      'a bearer with a space',
      { bearer: 'tok Zq9-2' },
      /option "auth.bearer" must be/,
    ],
    [
      'a number bearer',
      { bearer: 12345678 },
      /option "auth.bearer" must be .*; got a number/,
    ],
    [
      'a bearer beside basic',
      { bearer: 'tok-Zq9-3', username: 'u', password: 'p' },
      /option "auth" must be .*found the keys: bearer,password,username/,
    ],
    [
      'an unknown key',
      { token: 'tok-Zq9-4' },
      /option "auth" must be .*found the keys: token/,
    ],
    [
      'a user name with a colon',
      { username: 'us:Zq9-5', password: 'p' },
      /option "auth.username" must be/,
    ],
    [
      'an empty password',
      { username: 'u', password: '' },
      /option "auth.password" must be a non-empty string/,
    ],
    [
      'a password with a newline',
      { username: 'u', password: 'Zq9-6\n' },
      /option "auth.password" must be/,
    ],
    ['a missing password', { username: 'Zq9-7' }, /option "auth" must be/],
    ['null', null, /option "auth" must be .*; got null/],
  ])(
    'rejects %s at start-up without echoing it',
    async (_case, auth, message) => {
      const compile = Test.createTestingModule({
        imports: [MetricsModule.forRoot({ auth } as MetricsModuleOptions)],
      }).compile();
      const error: Error = await compile.then(
        () => {
          throw new Error('compiled');
        },
        (e: Error) => e,
      );
      expect(error.message).toMatch(message);
      expect(error.message).not.toMatch(/Zq9|12345678/);
      expect(error.stack ?? '').not.toMatch(/Zq9|12345678/);
    },
  );
});

describe('Real Prometheus scrape', () => {
  const prometheus = findSystemBinary('prometheus', 'prometheus', 'its checks');

  (prometheus ? it : it.skip)(
    'is scraped by Prometheus over OpenMetrics with a bearer token',
    async () => {
      const accepts: string[] = [];
      const app = await createApp({
        imports: [
          MetricsModule.forRoot({
            auth: (req) => {
              accepts.push(String(req.headers.accept));
              return req.headers.authorization === 'Bearer prom-token';
            },
          }),
          HttpFixtureModule,
        ],
      });
      let server: Server | undefined;
      const { mkdtempSync, writeFileSync, rmSync } = await import('node:fs');
      const { tmpdir } = await import('node:os');
      const { join } = await import('node:path');
      const { spawn } = await import('node:child_process');
      const dir = mkdtempSync(join(tmpdir(), 'scrape-prom-'));
      let child: ReturnType<typeof spawn> | undefined;
      try {
        await recordTraffic(app, 'Jobs "waiting" \\ queued.');
        const target = (await listen(app)).replace('http://', '');
        server = createServer();
        await new Promise<void>((resolve) =>
          server!.listen(0, '127.0.0.1', resolve),
        );
        const webPort = (server.address() as AddressInfo).port;
        await new Promise((resolve) => server!.close(resolve));
        writeFileSync(
          join(dir, 'prometheus.yml'),
          [
            'global: { scrape_interval: 1s, evaluation_interval: 1m }',
            'scrape_configs:',
            '  - job_name: app',
            '    authorization: { credentials: prom-token }',
            `    static_configs: [{ targets: ['${target}'] }]`,
            '',
          ].join('\n'),
        );
        child = spawn(
          prometheus!,
          [
            `--config.file=${join(dir, 'prometheus.yml')}`,
            `--storage.tsdb.path=${join(dir, 'data')}`,
            `--web.listen-address=127.0.0.1:${webPort}`,
          ],
          { stdio: 'ignore' },
        );
        const api = `http://127.0.0.1:${webPort}/api/v1`;
        const query = async (q: string) => {
          const response = await rawRequest(
            `${api}/query?query=${encodeURIComponent(q)}`,
          );
          return JSON.parse(response.body.toString()).data.result as {
            metric: Record<string, string>;
            value: [number, string];
          }[];
        };
        let target0: { health: string; lastError: string } | undefined;
        for (let i = 0; i < 150; i++) {
          try {
            const targets = JSON.parse(
              (await rawRequest(`${api}/targets`)).body.toString(),
            ).data.activeTargets;
            if (targets[0]?.health && targets[0].health !== 'unknown') {
              target0 = targets[0];
              if ((await query('requests_total')).length > 0) break;
            }
          } catch {
            // not listening yet
          }
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
        expect(target0).toMatchObject({ health: 'up', lastError: '' });
        expect(accepts[0]).toBe(PROMETHEUS_ACCEPT);
        const requests = await query('sum(requests_total)');
        expect(requests[0].value[1]).toBe('6');
        const errors = await query('errors_total{error_type="internal"}');
        expect(errors.map((r) => r.value[1])).toEqual(['1']);
        const buckets = await query(
          'request_duration_seconds_bucket{method="GET",route="/items",le="+Inf"}',
        );
        expect(buckets.map((r) => r.value[1])).toEqual(['1']);
        expect((await query('orders_total'))[0].value[1]).toBe('3');
        expect((await query('payload_bytes_count'))[0].value[1]).toBe('1');
        expect(await query('requests')).toEqual([]);
        const metadata = JSON.parse(
          (
            await rawRequest(`${api}/metadata?metric=queue_depth`)
          ).body.toString(),
        ).data.queue_depth;
        expect(metadata).toEqual([
          { type: 'gauge', help: 'Jobs "waiting" \\ queued.', unit: '' },
        ]);
      } finally {
        child?.kill('SIGTERM');
        if (child && child.exitCode === null)
          await new Promise((resolve) => child!.once('exit', resolve));
        rmSync(dir, { recursive: true, force: true });
        await app.close();
      }
    },
  );
});
