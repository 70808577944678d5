import 'reflect-metadata';
import { Controller, Get, type INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import { MetricsModule } from '../lib/index.js';
import { ADAPTERS, createApp } from './helpers/create-app.js';
import { scrape } from './helpers/metrics-text.js';

@Controller('ping')
class PingController {
  @Get()
  ping(): string {
    return 'pong';
  }
}

async function startFailure(defaultLabels: Record<string, string>) {
  return Test.createTestingModule({
    imports: [MetricsModule.forRoot({ defaultMetrics: false, defaultLabels })],
    controllers: [PingController],
  })
    .compile()
    .then(
      () => undefined,
      (error: unknown) => error,
    );
}

describe('defaultLabels', () => {
  it.each([
    ['le', 'Prometheus reserves it for histogram buckets'],
    ['quantile', 'Prometheus reserves it for summary quantiles'],
    ['route', 'a label of requests_total'],
    ['status', 'a label of requests_total'],
    ['transport', 'a label of requests_total'],
    ['error_type', 'a label of errors_total'],
    ['class', 'a label of the @Timed and @Counted metrics'],
    ['exception', 'a label of the @Timed and @Counted metrics'],
    ['queue', 'a label of queue_wait_seconds'],
  ])(
    'a default label named %s fails start-up naming the option and the label',
    async (label, reason) => {
      const failure = await startFailure({ service: 'api', [label]: 'x' });
      expect(failure).toBeInstanceOf(TypeError);
      const { message } = failure as Error;
      expect(message).toMatch(
        new RegExp(
          `^nestjs-metrics: option "defaultLabels" must not use the label name "${label}" \\(`,
        ),
      );
      expect(message).toContain(reason);
      expect(message).toMatch(/\); give that default label another name\.$/);
    },
  );

  describe.each(ADAPTERS)('on %s', (adapter) => {
    let app: INestApplication | undefined;
    afterEach(async () => {
      await app?.close();
      app = undefined;
    });

    it('puts a default label of another name on every request family', async () => {
      app = await createApp(
        {
          imports: [
            MetricsModule.forRoot({
              defaultMetrics: false,
              defaultLabels: { service: 'api', region: 'eu' },
            }),
          ],
          controllers: [PingController],
        },
        undefined,
        adapter,
      );
      await request(app.getHttpServer()).get('/ping').expect(200);
      const samples = await scrape(app);
      const requests = samples.filter((s) => s.name === 'requests_total');
      expect(requests).toEqual([
        {
          name: 'requests_total',
          labels: {
            transport: 'http',
            method: 'GET',
            route: '/ping',
            status: '200',
            service: 'api',
            region: 'eu',
          },
          value: 1,
        },
      ]);
      const buckets = samples.filter(
        (s) => s.name === 'request_duration_seconds_bucket',
      );
      expect(buckets.length).toBeGreaterThan(0);
      for (const bucket of buckets) {
        expect(bucket.labels.service).toBe('api');
        expect(bucket.labels.le).toBeDefined();
      }
    });
  });
});
