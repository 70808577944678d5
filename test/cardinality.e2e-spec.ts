import 'reflect-metadata';
import { METHODS } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { INestApplication } from '@nestjs/common';
import { MetricsModule } from '../lib/index.js';
import { STANDARD_HTTP_METHODS } from '../lib/http/http-method.js';
import { HttpFixtureModule } from './fixtures/http-fixture.module.js';
import { createApp } from './helpers/create-app.js';
import { KeepAliveClient, sendRaw } from './helpers/http-client.js';
import {
  eventually,
  find,
  parseSamples,
  sum,
  type Sample,
} from './helpers/metrics-text.js';
import { seededRandom, type SeededRandom } from './helpers/seeded-random.js';

// Random inputs come from a seeded generator: the run prints the seed, TEST_SEED replays it.
const randomPath = (random: SeededRandom) =>
  `/${random.bytes(6).toString('hex')}/${random.bytes(random.int(1, 12)).toString('base64url')}` +
  (random.int(2) === 0 ? `?q=${random.bytes(4).toString('hex')}` : '');

describe('Label values stay bounded whatever clients send', () => {
  let app: INestApplication;
  let port: number;
  let client: KeepAliveClient;

  beforeEach(async () => {
    app = await createApp({
      imports: [
        MetricsModule.forRoot({ defaultMetrics: false }),
        HttpFixtureModule,
      ],
    });
    await app.listen(0, '127.0.0.1');
    port = (app.getHttpServer().address() as AddressInfo).port;
    client = new KeepAliveClient(port, 4);
  });

  afterEach(async () => {
    client.close();
    await app.close();
  });

  const scrapeSamples = async (): Promise<Sample[]> => {
    const response = await client.send({ path: '/metrics' });
    expect(response.status).toBe(200);
    return parseSamples(response.text);
  };
  /** Series keys (name and labels) of the request families, which are what requests can add to. */
  const seriesOf = (samples: Sample[]): string[] =>
    samples
      .filter((s) => s.name !== 'uptime_seconds')
      .map((s) => `${s.name}${JSON.stringify(s.labels)}`)
      .sort();

  it('adds no series for 100,000 requests to distinct random paths', async () => {
    const random = seededRandom('random paths');
    expect((await client.send({ path: randomPath(random) })).status).toBe(404);
    const before = await scrapeSamples();
    expect(sum(before, 'requests_total')).toBe(1);

    const count = 100_000;
    const paths = new Set<string>();
    const statuses = await client.sendMany(count, () => {
      const path = randomPath(random);
      paths.add(path);
      return { path };
    });
    expect(paths.size).toBe(count);
    expect(statuses.every((status) => status === 404)).toBe(true);

    const after = await eventually(async () => {
      const samples = await scrapeSamples();
      expect(sum(samples, 'requests_total')).toBe(count + 1);
      return samples;
    });
    expect(seriesOf(after)).toEqual(seriesOf(before));
    expect(after.length).toBe(before.length);
    expect(
      sum(after, 'requests_total', { route: 'UNMATCHED', status: '404' }),
    ).toBe(count + 1);
    expect(sum(after, 'errors_total', { error_type: 'not_found' })).toBe(
      count + 1,
    );
  }, 180_000);

  it('folds methods outside the standard set into _OTHER; the parser refuses arbitrary tokens', async () => {
    const random = seededRandom('method tokens');
    const nonStandard = METHODS.filter(
      (method) => !STANDARD_HTTP_METHODS.has(method),
    );
    expect(nonStandard).toEqual(
      expect.arrayContaining(['PROPFIND', 'PURGE', 'MKCOL', 'M-SEARCH']),
    );
    for (const method of nonStandard) {
      const response = await sendRaw(
        port,
        `${method} /items HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`,
      );
      expect(response).toMatch(/^HTTP\/1\.1 404 /);
    }
    const before = await eventually(async () => {
      const samples = await scrapeSamples();
      expect(sum(samples, 'requests_total')).toBe(nonStandard.length);
      return samples;
    });
    expect(find(before, 'requests_total').map((s) => s.labels.method)).toEqual([
      '_OTHER',
    ]);
    expect(sum(before, 'requests_total', { method: '_OTHER' })).toBe(
      nonStandard.length,
    );

    // Arbitrary tokens never reach the app: Node's parser answers 400 and closes the connection.
    const tokens = new Set<string>();
    while (tokens.size < 1000) {
      const token = `X${random.bytes(random.int(2, 9)).toString('hex').toUpperCase()}`;
      if (!METHODS.includes(token)) tokens.add(token);
    }
    const tokenList = [...tokens];
    for (let i = 0; i < tokenList.length; i += 50) {
      const responses = await Promise.all(
        tokenList
          .slice(i, i + 50)
          .map((token) =>
            sendRaw(
              port,
              `${token} ${randomPath(random)} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`,
            ),
          ),
      );
      for (const response of responses)
        expect(response).toMatch(/^HTTP\/1\.1 400 /);
    }
    const after = await scrapeSamples();
    expect(seriesOf(after)).toEqual(seriesOf(before));
    expect(sum(after, 'requests_total')).toBe(nonStandard.length);
    expect(JSON.stringify(after)).not.toMatch(/"X[0-9A-F]{4,}"/);
  }, 60_000);

  it('adds no series for random headers, bodies and query strings', async () => {
    const random = seededRandom('headers and bodies');
    const methods = ['GET', 'POST', 'PUT'];
    for (const method of methods)
      expect(
        (await client.send({ method, path: randomPath(random) })).status,
      ).toBe(404);
    const before = await scrapeSamples();

    const count = 3000;
    const statuses = await client.sendMany(count, (i) => {
      const headers: Record<string, string> = {
        'content-type': 'application/octet-stream',
      };
      for (let h = random.int(1, 8); h > 0; h--)
        headers[`x-${random.bytes(4).toString('hex')}`] = random
          .bytes(random.int(1, 40))
          .toString('base64');
      const method = methods[i % methods.length];
      return {
        method,
        path: randomPath(random),
        headers,
        body: method === 'GET' ? undefined : random.bytes(random.int(0, 2048)),
      };
    });
    expect(statuses.every((status) => status === 404)).toBe(true);

    const after = await eventually(async () => {
      const samples = await scrapeSamples();
      expect(sum(samples, 'requests_total')).toBe(count + methods.length);
      return samples;
    });
    expect(seriesOf(after)).toEqual(seriesOf(before));
    for (const method of methods) {
      expect(sum(after, 'requests_total', { method, route: 'UNMATCHED' })).toBe(
        count / methods.length + 1,
      );
    }
  }, 60_000);
});
