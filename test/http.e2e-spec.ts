import 'reflect-metadata';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { INestApplication } from '@nestjs/common';
import { jest } from '@jest/globals';
import request from 'supertest';
import { MetricsModule } from '../lib/index.js';
import { RequestMetrics } from '../lib/recorder/request-metrics.js';
import { HttpFixtureModule, MIB } from './fixtures/http-fixture.module.js';
import { ADAPTERS, createApp } from './helpers/create-app.js';
import {
  eventually,
  find,
  scrape,
  sum,
  type Sample,
} from './helpers/metrics-text.js';
import { stopwatch } from './helpers/stopwatch.js';

const http = { transport: 'http' };

/**
 * Where the adapters answer differently without the library. Express routes are not strict, so
 * `/items/3/` is `/items/:id`; Fastify's router treats the trailing slash as another path.
 */
const TRAILING_SLASH = {
  express: { status: 200, route: '/items/:id' },
  fastify: { status: 404, route: 'UNMATCHED' },
} as const;

describe.each(ADAPTERS)('HTTP requests on %s', (adapter) => {
  let app: INestApplication;
  let appAge: () => number;

  beforeEach(async () => {
    appAge = stopwatch();
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
  });

  afterEach(async () => {
    await app.close();
  });

  const get = (path: string) => request(app.getHttpServer()).get(path);
  const requests = (
    samples: Sample[],
    route: string,
    status: string,
    method = 'GET',
  ) => sum(samples, 'requests_total', { ...http, method, route, status });
  const errors = (
    samples: Sample[],
    route: string,
    errorType: string,
    method = 'GET',
  ) =>
    sum(samples, 'errors_total', {
      ...http,
      method,
      route,
      error_type: errorType,
    });

  it('counts each request once under its route template, never the raw path or query', async () => {
    await get('/items').expect(200);
    await get('/items/1').expect(200);
    await get('/items/2?secret=abc').expect(200);
    const slash = TRAILING_SLASH[adapter];
    await get('/items/3/').expect(slash.status);

    const samples = await scrape(app);
    const expected = new Map([
      ['/items 200', 1],
      ['/items/:id 200', 2],
    ]);
    const slashKey = `${slash.route} ${slash.status}`;
    expected.set(slashKey, (expected.get(slashKey) ?? 0) + 1);
    for (const [key, count] of expected) {
      const [route, status] = key.split(' ');
      expect(requests(samples, route, status)).toBe(count);
    }
    expect(sum(samples, 'requests_total')).toBe(4);
    const routes = new Set(
      find(samples, 'requests_total').map((s) => s.labels.route),
    );
    expect([...routes].sort()).toEqual(
      [...new Set(['/items', '/items/:id', slash.route])].sort(),
    );
    expect(JSON.stringify(samples)).not.toContain('secret');
  });

  it('labels requests that match no route UNMATCHED with a not_found error', async () => {
    for (let i = 0; i < 25; i++)
      await get(`/random/${i}/${'x'.repeat(i)}`).expect(404);
    await request(app.getHttpServer()).delete('/items').expect(404);

    const samples = await scrape(app);
    expect(requests(samples, 'UNMATCHED', '404')).toBe(25);
    expect(requests(samples, 'UNMATCHED', '404', 'DELETE')).toBe(1);
    expect(errors(samples, 'UNMATCHED', 'not_found')).toBe(25);
    expect(find(samples, 'requests_total')).toHaveLength(2);
  });

  it('counts requests a guard rejects, with the status the client got', async () => {
    await get('/admin').expect(401);
    await get('/admin').set('Authorization', 'Bearer nope').expect(403);
    await get('/admin').set('Authorization', 'Bearer nope').expect(403);
    await get('/admin').set('Authorization', 'Bearer admin').expect(200);
    // The exception a guard throws decides error_type, as one from a pipe would.
    await get('/admin').set('Authorization', 'Bearer').expect(400);

    const samples = await scrape(app);
    expect(requests(samples, '/admin', '401')).toBe(1);
    expect(requests(samples, '/admin', '403')).toBe(2);
    expect(requests(samples, '/admin', '200')).toBe(1);
    expect(requests(samples, '/admin', '400')).toBe(1);
    expect(errors(samples, '/admin', 'unauthorized')).toBe(1);
    expect(errors(samples, '/admin', 'forbidden')).toBe(2);
    expect(errors(samples, '/admin', 'validation')).toBe(1);
    expect(sum(samples, 'errors_total', { route: '/admin' })).toBe(4);
  });

  it('tells validation from deserialization failures', async () => {
    const server = app.getHttpServer();
    await request(server)
      .post('/items')
      .send({ name: 'pen', quantity: 2 })
      .expect(201);
    await request(server)
      .post('/items')
      .send({ name: 'pen', quantity: 0 })
      .expect(400);
    await request(server)
      .post('/items')
      .set('Content-Type', 'application/json')
      .send('{"name": "pen",')
      .expect(400);
    await get('/items/abc').expect(400);
    await get('/bad').expect(400);

    const samples = await scrape(app);
    expect(requests(samples, '/items', '201', 'POST')).toBe(1);
    expect(requests(samples, '/items', '400', 'POST')).toBe(2);
    expect(errors(samples, '/items', 'validation', 'POST')).toBe(1);
    expect(errors(samples, '/items', 'deserialization', 'POST')).toBe(1);
    expect(errors(samples, '/items/:id', 'validation')).toBe(1);
    expect(errors(samples, '/bad', 'validation')).toBe(1);
  });

  it('counts requests that middleware rejects before routing under their route', async () => {
    await get('/blocked').expect(429);
    await get('/blocked').expect(429);

    const samples = await scrape(app);
    expect(requests(samples, '/blocked', '429')).toBe(2);
    expect(errors(samples, '/blocked', 'client_error')).toBe(2);
  });

  it('maps statuses and exceptions to the closed error_type set', async () => {
    await get('/boom').expect(500);
    await get('/teapot').expect(418);
    await get('/plain-400').expect(400);
    await get('/timeout').expect(408);
    await get('/rx-timeout').expect(500);
    await get('/empty').expect(204);

    const samples = await scrape(app);
    expect(errors(samples, '/boom', 'internal')).toBe(1);
    expect(errors(samples, '/teapot', 'client_error')).toBe(1);
    expect(errors(samples, '/plain-400', 'client_error')).toBe(1);
    expect(errors(samples, '/timeout', 'timeout')).toBe(1);
    expect(errors(samples, '/rx-timeout', 'timeout')).toBe(1);
    expect(sum(samples, 'errors_total', { route: '/empty' })).toBe(0);
    expect(sum(samples, 'errors_total')).toBe(5);
  });

  it('counts body bytes received and sent, including chunked bodies and streams', async () => {
    const body = JSON.stringify({ note: 'héllo', list: [1, 2, 3] });
    await request(app.getHttpServer())
      .post('/items/raw')
      .set('Content-Type', 'application/json')
      .send(body)
      .expect(200);
    const list = await get('/items').expect(200);
    const download = await get('/download')
      .buffer(true)
      .parse(collectBytes)
      .expect(200);
    await request(app.getHttpServer()).head('/items').expect(200);
    await get('/empty').expect(204);

    await app.listen(0);
    const chunks = ['{"a":', '"chunked', ' body"}'];
    const chunked = await send(
      app,
      {
        method: 'POST',
        path: '/items/raw',
        headers: { 'Content-Type': 'application/json' },
      },
      chunks,
    );
    expect(chunked.headers['content-type']).toContain('application/json');

    const samples = await scrape(app);
    const rawBytes =
      Buffer.byteLength(body) + Buffer.byteLength(chunks.join(''));
    expect(
      sum(samples, 'request_bytes_total', {
        route: '/items/raw',
        method: 'POST',
      }),
    ).toBe(rawBytes);
    expect(
      sum(samples, 'response_bytes_total', { route: '/items', method: 'GET' }),
    ).toBe(Buffer.byteLength(list.text));
    expect((download.body as Buffer).length).toBe(MIB);
    expect(sum(samples, 'response_bytes_total', { route: '/download' })).toBe(
      MIB,
    );
    expect(
      sum(samples, 'response_bytes_total', { route: '/items', method: 'HEAD' }),
    ).toBe(0);
    expect(sum(samples, 'response_bytes_total', { route: '/empty' })).toBe(0);
    expect(
      sum(samples, 'request_bytes_total', { route: '/items', method: 'GET' }),
    ).toBe(0);
  });

  it('times requests in seconds with a monotonic clock', async () => {
    const elapsed = stopwatch();
    await get('/slow?ms=300').expect(200);
    const seenByClient = elapsed();

    const samples = await scrape(app);
    const series = { ...http, method: 'GET', route: '/slow', status: '200' };
    expect(sum(samples, 'request_duration_seconds_count', series)).toBe(1);
    const seconds = sum(samples, 'request_duration_seconds_sum', series);
    expect(seconds).toBeGreaterThanOrEqual(0.29);
    expect(seconds).toBeLessThanOrEqual(seenByClient);
    expect(
      sum(samples, 'request_duration_seconds_bucket', {
        ...series,
        le: '0.25',
      }),
    ).toBe(0);
    expect(
      sum(samples, 'request_duration_seconds_bucket', { ...series, le: '10' }),
    ).toBe(1);
    expect(
      sum(samples, 'request_duration_seconds_bucket', {
        ...series,
        le: '+Inf',
      }),
    ).toBe(1);
  });

  it('tracks requests in flight and returns concurrent_requests to 0', async () => {
    await app.listen(0);
    const pending = [get('/slow?ms=400'), get('/slow?ms=400'), get('/boom')];
    const inFlight = pending.map((p) => p.then((r) => r.status));
    await eventually(async () => {
      expect(sum(await scrape(app), 'concurrent_requests', http)).toBe(2);
    });
    expect(await Promise.all(inFlight)).toEqual([200, 200, 500]);

    const samples = await scrape(app);
    expect(sum(samples, 'concurrent_requests', http)).toBe(0);
    expect(find(samples, 'concurrent_requests')).toHaveLength(1);
  });

  it('records a request the client abandons as aborted and frees its slot', async () => {
    await app.listen(0);
    const { port } = app.getHttpServer().address() as AddressInfo;
    await new Promise<void>((resolve) => {
      const req = httpRequest({ port, path: '/slow?ms=500' });
      req.on('error', () => resolve());
      req.end();
      setTimeout(() => req.destroy(), 100);
    });

    const samples = await eventually(async () => {
      const s = await scrape(app);
      expect(errors(s, '/slow', 'aborted')).toBe(1);
      return s;
    });
    expect(requests(samples, '/slow', '499')).toBe(1);
    expect(sum(samples, 'concurrent_requests', http)).toBe(0);
  });

  it('records a stream that fails after the headers as response_stream', async () => {
    await app.listen(0);
    const { port } = app.getHttpServer().address() as AddressInfo;
    const status = await new Promise<number>((resolve) => {
      const req = httpRequest({ port, path: '/broken-download' }, (res) => {
        res.on('data', () => undefined);
        res.on('error', () => resolve(res.statusCode ?? 0));
        res.on('close', () => resolve(res.statusCode ?? 0));
      });
      req.on('error', () => resolve(-1));
      req.end();
    });
    expect(status).toBe(200);

    const samples = await eventually(async () => {
      const s = await scrape(app);
      expect(errors(s, '/broken-download', 'response_stream')).toBe(1);
      return s;
    });
    expect(requests(samples, '/broken-download', '200')).toBe(1);
    expect(
      sum(samples, 'response_bytes_total', { route: '/broken-download' }),
    ).toBe(1024);
    expect(sum(samples, 'concurrent_requests', http)).toBe(0);
  });

  it('does not measure its own metrics path', async () => {
    await scrape(app);
    await scrape(app);
    await request(app.getHttpServer()).get('/metrics?x=1').expect(200);
    await request(app.getHttpServer()).get('/metrics/').expect(200);
    await request(app.getHttpServer()).head('/metrics').expect(200);
    const samples = await scrape(app);
    expect(find(samples, 'requests_total')).toHaveLength(0);
    expect(sum(samples, 'concurrent_requests', http)).toBe(0);
  });

  it('never fails a request because recording failed', async () => {
    const metrics = app.get(RequestMetrics);
    const record = jest.spyOn(metrics, 'record').mockImplementation(() => {
      throw new Error('recorder broke');
    });
    const response = await get('/items/5').expect(200);
    expect(response.body).toEqual({ id: 5 });
    expect(record).toHaveBeenCalledTimes(1);
    record.mockRestore();

    await get('/items/6').expect(200);
    const samples = await scrape(app);
    expect(requests(samples, '/items/:id', '200')).toBe(1);
    expect(sum(samples, 'concurrent_requests', http)).toBe(0);
  });

  it('exports uptime_seconds and every family with its documented type', async () => {
    const text = (
      await request(app.getHttpServer()).get('/metrics').expect(200)
    ).text;
    for (const [name, type] of [
      ['requests_total', 'counter'],
      ['request_bytes_total', 'counter'],
      ['response_bytes_total', 'counter'],
      ['request_duration_seconds', 'histogram'],
      ['concurrent_requests', 'gauge'],
      ['errors_total', 'counter'],
      ['uptime_seconds', 'gauge'],
    ]) {
      expect(text).toContain(`# TYPE ${name} ${type}\n`);
    }
    const uptime = sum(await scrape(app), 'uptime_seconds');
    expect(uptime).toBeGreaterThan(0);
    // The app's age in seconds: no older than the app.
    expect(uptime).toBeLessThanOrEqual(appAge());
  });
});

function collectBytes(
  res: request.Response,
  done: (err: Error | null, body: Buffer) => void,
) {
  const stream = res as unknown as IncomingMessage;
  const chunks: Buffer[] = [];
  stream.on('data', (chunk: Buffer) => chunks.push(chunk));
  stream.on('end', () => done(null, Buffer.concat(chunks)));
}

/** Sends a body in chunks (Transfer-Encoding: chunked) over a real socket. */
function send(
  app: INestApplication,
  options: { method: string; path: string; headers?: Record<string, string> },
  chunks: string[],
): Promise<IncomingMessage> {
  const { port } = app.getHttpServer().address() as AddressInfo;
  return new Promise((resolve, reject) => {
    const req = httpRequest({ port, ...options }, (res) => {
      res.resume();
      res.on('end', () => resolve(res));
    });
    req.on('error', reject);
    for (const chunk of chunks) req.write(chunk);
    req.end();
  });
}
