import 'reflect-metadata';
import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import {
  DEFAULT_TRANSPORT_BUCKETS,
  type MetricsModuleOptions,
} from '../lib/index.js';
import { HttpFixtureModule } from './fixtures/http-fixture.module.js';
import {
  fixtureProcessor,
  Gate,
  producer,
  queueAppImports,
  uniqueQueueName,
} from './fixtures/queue.fixtures.js';
import { createApp } from './helpers/create-app.js';
import { eventually, find, parseSamples } from './helpers/metrics-text.js';
import { requireService } from './helpers/requirements.js';
import {
  expectPromtoolAccepts,
  findSystemBinary,
} from './helpers/system-binary.js';

const redis = await requireService('redis', 'the queue bucket tests');
const promtool = findSystemBinary(
  'promtool',
  'prometheus',
  'the promtool check',
);

const leList = (bounds: readonly number[]) => [...bounds.map(String), '+Inf'];

(redis ? describe : describe.skip)(
  'Duration buckets of queue jobs beside HTTP requests',
  () => {
    let app: INestApplication | undefined;
    let queue: ReturnType<typeof producer> | undefined;

    afterEach(async () => {
      await app?.close();
      await queue?.cleanUp();
      app = undefined;
      queue = undefined;
    });

    /** Runs one HTTP request and one queue job, and returns the checked exposition. */
    async function run(metrics: MetricsModuleOptions) {
      const name = uniqueQueueName('buckets');
      const processor = fixtureProcessor(name, new Gate());
      app = await createApp({
        imports: [
          ...queueAppImports(name, processor, { metrics }),
          HttpFixtureModule,
        ],
      });
      queue = producer(name);
      await queue.add('ok', {});
      await request(app.getHttpServer()).get('/items').expect(200);
      const text = await eventually(async () => {
        const response = await request(app!.getHttpServer())
          .get('/metrics')
          .expect(200);
        const queued = find(parseSamples(response.text), 'requests_total', {
          transport: 'queue',
        });
        expect(queued.map((s) => s.value)).toEqual([1]);
        return response.text;
      }, 15000);
      expectPromtoolAccepts(promtool, text);
      const samples = parseSamples(text);
      const le = (transport: string) =>
        find(samples, 'request_duration_seconds_bucket', { transport }).map(
          (s) => s.labels.le,
        );
      return { http: le('http'), queue: le('queue') };
    }

    it('queue jobs get buckets to 30 minutes, HTTP keeps its own, in one family', async () => {
      expect(await run({})).toEqual({
        http: leList(DEFAULT_TRANSPORT_BUCKETS.http),
        queue: leList(DEFAULT_TRANSPORT_BUCKETS.queue),
      });
    });

    it('buckets.queue replaces the queue list only', async () => {
      expect(await run({ buckets: { queue: [1, 3600] } })).toEqual({
        http: leList(DEFAULT_TRANSPORT_BUCKETS.http),
        queue: ['1', '3600', '+Inf'],
      });
    });

    it('one buckets list applies to every transport', async () => {
      expect(await run({ buckets: [0.5, 5] })).toEqual({
        http: ['0.5', '5', '+Inf'],
        queue: ['0.5', '5', '+Inf'],
      });
    });
  },
);
