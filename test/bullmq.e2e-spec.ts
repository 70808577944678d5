import 'reflect-metadata';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Controller, Get, type INestApplication } from '@nestjs/common';
import { Worker, type Queue } from 'bullmq';
import type { FixtureWorkerOptions } from './fixtures/queue.fixtures.js';
import { createApp } from './helpers/create-app.js';
import { requireService } from './helpers/requirements.js';
import {
  eventually,
  find,
  scrape,
  sum,
  type Sample,
} from './helpers/metrics-text.js';
import {
  fixtureProcessor,
  Gate,
  producer,
  queueAppImports,
  REDIS,
  uniqueQueueName,
} from './fixtures/queue.fixtures.js';
import { MetricsModule } from '../lib/index.js';
import { QueueMetricsLifecycle } from '../lib/queue/queue-metrics.lifecycle.js';
import { QueueInstrumentation } from '../lib/queue/queue-instrumentation.js';

const jsonBytes = (value: unknown) => Buffer.byteLength(JSON.stringify(value));

/** Waits until the queue has finished `completed` and `failed` jobs. */
async function finished(
  queue: Queue,
  completed: number,
  failed: number,
): Promise<void> {
  await eventually(async () => {
    const counts = await queue.getJobCounts('completed', 'failed');
    expect(counts).toEqual({ completed, failed });
  }, 15000);
}

function queueSeries(samples: Sample[], name: string, labels = {}) {
  return sum(samples, name, { transport: 'queue', ...labels });
}

const redis = await requireService('redis', 'the BullMQ processor tests');

(redis ? describe : describe.skip)('BullMQ processors', () => {
  let app: INestApplication | undefined;
  let queue: (Queue & { cleanUp(): Promise<void> }) | undefined;

  afterEach(async () => {
    await app?.close();
    await queue?.cleanUp();
    app = undefined;
    queue = undefined;
  });

  async function start(
    label: string,
    concurrency = 1,
    options: Parameters<typeof queueAppImports>[2] = {},
    name = uniqueQueueName(label),
    workerOptions: FixtureWorkerOptions = {},
  ) {
    const gate = new Gate();
    const processor = fixtureProcessor(name, gate, {
      concurrency,
      ...workerOptions,
    });
    app = await createApp({
      imports: queueAppImports(name, processor, options),
    });
    queue ??= producer(name);
    return { name, gate, queue, processor: app.get(processor) };
  }

  it.each([
    ['before', true],
    ['after', false],
  ])(
    'counts successes and failures with bytes and waits (MetricsModule imported %s BullModule)',
    async (_order, metricsFirst) => {
      const { name, queue, processor } = await start('basic', 1, {
        metricsFirst,
      });
      // In either order the module's hooks run first: `process` is wrapped before the worker
      // binds it, and the worker's own processing function is left alone.
      expect(QueueInstrumentation.isMeasured(processor.process)).toBe(true);
      expect(
        QueueInstrumentation.isMeasured(
          (processor.worker as unknown as { processFn: unknown }).processFn,
        ),
      ).toBe(false);
      const okData = [{ n: 1 }, { n: 22 }, { text: 'héllo' }];
      for (const data of okData) await queue.add('ok', data);
      await queue.add('fail', { n: 3 });
      await queue.add('fail', { n: 4 });
      await queue.add('invalid', {});
      await finished(queue, 3, 3);

      const samples = await scrape(app!);
      const ok = { route: name, method: 'ok' };
      expect(
        queueSeries(samples, 'requests_total', { ...ok, status: 'ok' }),
      ).toBe(3);
      expect(
        queueSeries(samples, 'requests_total', { ...ok, status: 'error' }),
      ).toBe(0);
      expect(
        queueSeries(samples, 'requests_total', {
          route: name,
          method: 'fail',
          status: 'error',
        }),
      ).toBe(2);
      expect(
        queueSeries(samples, 'requests_total', {
          route: name,
          method: 'invalid',
          status: 'error',
        }),
      ).toBe(1);
      expect(
        queueSeries(samples, 'errors_total', {
          route: name,
          method: 'fail',
          error_type: 'internal',
        }),
      ).toBe(2);
      expect(
        queueSeries(samples, 'errors_total', {
          route: name,
          method: 'invalid',
          error_type: 'validation',
        }),
      ).toBe(1);
      expect(queueSeries(samples, 'errors_total', ok)).toBe(0);
      expect(queueSeries(samples, 'request_duration_seconds_count', ok)).toBe(
        3,
      );
      expect(
        queueSeries(samples, 'request_duration_seconds_bucket', {
          ...ok,
          le: '+Inf',
        }),
      ).toBe(3);
      expect(queueSeries(samples, 'request_bytes_total', ok)).toBe(
        okData.reduce((total, data) => total + jsonBytes(data), 0),
      );
      expect(queueSeries(samples, 'response_bytes_total', ok)).toBe(
        okData.reduce((total, data) => total + jsonBytes({ echo: data }), 0),
      );
      expect(
        queueSeries(samples, 'request_bytes_total', {
          route: name,
          method: 'fail',
        }),
      ).toBe(jsonBytes({ n: 3 }) + jsonBytes({ n: 4 }));
      expect(
        queueSeries(samples, 'response_bytes_total', {
          route: name,
          method: 'fail',
        }),
      ).toBe(0);
      expect(
        sum(samples, 'queue_wait_seconds_count', {
          queue: name,
          job_name: 'ok',
        }),
      ).toBe(3);
      expect(
        sum(samples, 'queue_wait_seconds_count', {
          queue: name,
          job_name: 'fail',
        }),
      ).toBe(2);
      expect(
        sum(samples, 'queue_wait_seconds_bucket', {
          queue: name,
          job_name: 'ok',
          le: '+Inf',
        }),
      ).toBe(3);
      expect(sum(samples, 'concurrent_requests', { transport: 'queue' })).toBe(
        0,
      );
      expect(
        find(samples, 'concurrent_requests', { transport: 'queue' }),
      ).toHaveLength(1);
    },
  );

  it('counts every attempt of a retried job and its wait once', async () => {
    const { name, queue } = await start('retry');
    await queue.add('flaky', { id: 7 }, { attempts: 3 });
    await finished(queue, 1, 0);

    const samples = await scrape(app!);
    const flaky = { route: name, method: 'flaky' };
    expect(
      queueSeries(samples, 'requests_total', { ...flaky, status: 'error' }),
    ).toBe(2);
    expect(
      queueSeries(samples, 'requests_total', { ...flaky, status: 'ok' }),
    ).toBe(1);
    expect(
      queueSeries(samples, 'errors_total', {
        ...flaky,
        error_type: 'internal',
      }),
    ).toBe(2);
    expect(queueSeries(samples, 'request_bytes_total', flaky)).toBe(
      3 * jsonBytes({ id: 7 }),
    );
    expect(queueSeries(samples, 'response_bytes_total', flaky)).toBe(
      jsonBytes({ attempt: 3 }),
    );
    expect(
      sum(samples, 'queue_wait_seconds_count', {
        queue: name,
        job_name: 'flaky',
      }),
    ).toBe(1);
  });

  it('shows the active jobs of a concurrent worker and returns to 0', async () => {
    const { name, gate, queue } = await start('concurrency', 3);
    await queue.addBulk([1, 2, 3].map((n) => ({ name: 'held', data: { n } })));

    await eventually(async () => {
      const samples = await scrape(app!);
      expect(sum(samples, 'concurrent_requests', { transport: 'queue' })).toBe(
        3,
      );
    }, 15000);
    gate.open();
    await finished(queue, 3, 0);

    const samples = await scrape(app!);
    expect(sum(samples, 'concurrent_requests', { transport: 'queue' })).toBe(0);
    expect(
      queueSeries(samples, 'requests_total', {
        route: name,
        method: 'held',
        status: 'ok',
      }),
    ).toBe(3);
  });

  it('measures the wait of a delayed job from when it became ready', async () => {
    const { name, queue } = await start('delayed');
    await queue.add('ok', { n: 1 }, { delay: 200 });
    await finished(queue, 1, 0);

    const samples = await scrape(app!);
    expect(
      sum(samples, 'queue_wait_seconds_count', { queue: name, job_name: 'ok' }),
    ).toBe(1);
    expect(
      queueSeries(samples, 'requests_total', {
        route: name,
        method: 'ok',
        status: 'ok',
      }),
    ).toBe(1);
  });

  it('counts a job whose lock expired as errors_total{error_type="stalled"}', async () => {
    const name = uniqueQueueName('stalled');
    queue = producer(name);
    await queue.add('ok', { n: 1 });
    // Another worker takes the job and dies with it: its lock is never renewed.
    const lost = new Worker(name, null, {
      connection: REDIS,
      lockDuration: 300,
      autorun: false,
    });
    expect((await lost.getNextJob('lost-token'))?.name).toBe('ok');
    await lost.close(true);

    await start('stalled', 1, {}, name, { stalledInterval: 200 });
    await finished(queue, 1, 0);

    await eventually(async () => {
      const samples = await scrape(app!);
      const ok = { route: name, method: 'ok' };
      expect(
        queueSeries(samples, 'errors_total', { ...ok, error_type: 'stalled' }),
      ).toBe(1);
      // The stalled attempt ran elsewhere; this process counts only the one it ran.
      expect(queueSeries(samples, 'requests_total', ok)).toBe(1);
      expect(
        queueSeries(samples, 'requests_total', { ...ok, status: 'ok' }),
      ).toBe(1);
    });
  });

  it('uses queueWaitBuckets for queue_wait_seconds', async () => {
    const { name, queue } = await start('buckets', 1, {
      metrics: { queueWaitBuckets: [0.5, 30] },
    });
    await queue.add('ok', {});
    await finished(queue, 1, 0);

    const buckets = find(await scrape(app!), 'queue_wait_seconds_bucket', {
      queue: name,
    }).map((sample) => sample.labels.le);
    expect(buckets).toEqual(['0.5', '30', '+Inf']);
  });
});

describe('MetricsModule without BullMQ processors', () => {
  @Controller('ping')
  class PingController {
    @Get()
    ping() {
      return 'pong';
    }
  }

  it('starts, finds no processor and exports no queue series', async () => {
    const app = await createApp({
      imports: [MetricsModule.forRoot({ defaultMetrics: false })],
      controllers: [PingController],
    });
    try {
      expect(app.get(QueueMetricsLifecycle).processorCount).toBe(0);
      const samples = await scrape(app);
      expect(find(samples, 'queue_wait_seconds_count')).toHaveLength(0);
      expect(
        find(samples, 'concurrent_requests', { transport: 'queue' }),
      ).toHaveLength(0);
      expect(
        find(samples, 'concurrent_requests', { transport: 'http' }),
      ).toHaveLength(1);
    } finally {
      await app.close();
    }
  });

  it('library code never imports bullmq or @nestjs/bullmq statically', () => {
    const libDir = join(process.cwd(), 'lib');
    const files = (readdirSync(libDir, { recursive: true }) as string[]).filter(
      (file) => file.endsWith('.ts') && !file.endsWith('.spec.ts'),
    );
    expect(files.length).toBeGreaterThan(10);
    const staticImport =
      /^\s*(?:import|export)\s+(?!type\b)[^;]*?from\s+['"](?:bullmq|@nestjs\/bullmq)(?:\/[^'"]*)?['"]|^\s*import\s+['"](?:bullmq|@nestjs\/bullmq)['"]/m;
    const offenders = files.filter((file) =>
      staticImport.test(readFileSync(join(libDir, file), 'utf8')),
    );
    expect(offenders).toEqual([]);
  });
});
