import 'reflect-metadata';
import type { INestApplication } from '@nestjs/common';
import { BullModule, getQueueToken } from '@nestjs/bullmq';
import { FlowProducer, Worker, type Queue } from 'bullmq';
import { CaptureLogger } from './helpers/capture-logger.js';
import { createApp } from './helpers/create-app.js';
import {
  eventually,
  find,
  scrape,
  type Sample,
} from './helpers/metrics-text.js';
import { PausableProxy } from './helpers/pausable-proxy.js';
import { requireService } from './helpers/requirements.js';
import {
  fixtureProcessor,
  Gate,
  producer,
  REDIS,
  uniqueQueueName,
} from './fixtures/queue.fixtures.js';
import { MetricsModule, type MetricsModuleOptions } from '../lib/index.js';
import { QueueDepthLifecycle } from '../lib/queue/queue-depth.lifecycle.js';
import { resolveOptions } from '../lib/metrics.options.js';

const redis = await requireService('redis', 'the queue depth tests');

type CleanQueue = Queue & { cleanUp(): Promise<void> };

/** The `queue_jobs` of `queue` by state, and its `queue_workers`; `undefined` without series. */
function depth(samples: Sample[], queue: string) {
  const jobs = find(samples, 'queue_jobs', { queue });
  const workers = find(samples, 'queue_workers', { queue });
  if (jobs.length === 0 && workers.length === 0) return undefined;
  return {
    jobs: Object.fromEntries(jobs.map((s) => [s.labels.state, s.value])),
    workers: workers.map((s) => s.value),
  };
}

const none = {
  waiting: 0,
  active: 0,
  delayed: 0,
  prioritized: 0,
  'waiting-children': 0,
  paused: 0,
  failed: 0,
  completed: 0,
};

describe('queueDepth option', () => {
  it('defaults to a 1 s cache and a 0.5 s timeout, and can be set or turned off', () => {
    expect(resolveOptions({}).queueDepth).toEqual({
      cacheSeconds: 1,
      timeoutSeconds: 0.5,
    });
    expect(
      resolveOptions({ queueDepth: { cacheSeconds: 0, timeoutSeconds: 2 } })
        .queueDepth,
    ).toEqual({ cacheSeconds: 0, timeoutSeconds: 2 });
    expect(resolveOptions({ queueDepth: false }).queueDepth).toBeUndefined();
  });

  it('keeps the labels of queue_jobs, queue_workers and ws_connections out of defaultLabels', () => {
    expect(() => resolveOptions({ defaultLabels: { state: 'x' } })).toThrow(
      'option "defaultLabels" must not use the label name "state" (a label of queue_jobs)',
    );
    expect(() => resolveOptions({ defaultLabels: { gateway: 'x' } })).toThrow(
      'option "defaultLabels" must not use the label name "gateway" (a label of ws_connections, ws_connections_total)',
    );
  });

  it.each([
    [{ cacheSeconds: -1 }, /"queueDepth.cacheSeconds" must be/],
    [{ timeoutSeconds: 0 }, /"queueDepth.timeoutSeconds" must be/],
    [{ every: 1 }, /"queueDepth.every" must be one of cacheSeconds/],
    ['yes', /"queueDepth" must be false, true or/],
  ])('rejects %p naming the option', (queueDepth, message) => {
    expect(() =>
      resolveOptions({
        queueDepth: queueDepth as MetricsModuleOptions['queueDepth'],
      }),
    ).toThrow(message);
  });
});

(redis ? describe : describe.skip)('Queue depth and workers (BullMQ)', () => {
  let app: INestApplication | undefined;
  const cleanUps: (() => Promise<unknown>)[] = [];

  afterEach(async () => {
    await app?.close();
    app = undefined;
    for (const cleanUp of cleanUps.splice(0).reverse()) await cleanUp();
  });

  function queueOf(name: string): CleanQueue {
    const queue = producer(name);
    cleanUps.push(() => queue.cleanUp());
    return queue;
  }

  it('exports the jobs of every queue in each state, and its workers', async () => {
    const main = uniqueQueueName('depth-main');
    const kids = uniqueQueueName('depth-kids');
    const paused = uniqueQueueName('depth-paused');
    const crew = uniqueQueueName('depth-crew');
    const unregistered = uniqueQueueName('depth-processor-only');
    const gate = new Gate();
    cleanUps.push(async () => gate.open());
    const mainQueue = queueOf(main);
    queueOf(kids);
    const pausedQueue = queueOf(paused);
    queueOf(crew);
    const unregisteredQueue = queueOf(unregistered);
    app = await createApp({
      imports: [
        MetricsModule.forRoot({
          defaultMetrics: false,
          queueDepth: { cacheSeconds: 0 },
        }),
        BullModule.forRoot({ connection: REDIS }),
        BullModule.registerQueue(
          { name: main },
          { name: kids },
          { name: paused },
          { name: crew },
        ),
      ],
      providers: [
        fixtureProcessor(main, gate, { concurrency: 1 }),
        // A processor whose queue the app does not register: the library opens one.
        fixtureProcessor(unregistered, gate, { concurrency: 1 }),
      ],
    });
    expect(app.get(QueueDepthLifecycle).queueNames.sort()).toEqual(
      [main, kids, paused, crew, unregistered].sort(),
    );

    // main: 2 completed, 1 failed, 1 active (held), then 3 waiting, 2 delayed, 1 prioritized,
    // and a parent waiting for its 2 children (which wait in `kids`, without a worker).
    await mainQueue.add('ok', {});
    await mainQueue.add('ok', {});
    await mainQueue.add('fail', {});
    await eventually(async () =>
      expect(await mainQueue.getJobCounts('completed', 'failed')).toEqual({
        completed: 2,
        failed: 1,
      }),
    );
    await mainQueue.add('held', {});
    await eventually(async () =>
      expect(await mainQueue.getJobCounts('active')).toEqual({ active: 1 }),
    );
    for (let i = 0; i < 3; i++) await mainQueue.add('ok', { i });
    await mainQueue.add('ok', {}, { delay: 3_600_000 });
    await mainQueue.add('ok', {}, { delay: 3_600_000 });
    await mainQueue.add('ok', {}, { priority: 5 });
    const flows = new FlowProducer({ connection: REDIS });
    cleanUps.push(() => flows.close());
    await flows.add({
      name: 'ok',
      queueName: main,
      children: [
        { name: 'child', queueName: kids },
        { name: 'child', queueName: kids },
      ],
    });
    // paused: 2 jobs added, then the queue paused (no worker).
    await pausedQueue.add('ok', {});
    await pausedQueue.add('ok', {});
    await pausedQueue.pause();
    // crew: 3 workers of another process, idle.
    const crewWorkers = [1, 2, 3].map(
      () => new Worker(crew, async () => 'done', { connection: REDIS }),
    );
    cleanUps.push(() => Promise.all(crewWorkers.map((w) => w.close())));
    await Promise.all(crewWorkers.map((w) => w.waitUntilReady()));
    // unregistered: 1 completed.
    await unregisteredQueue.add('ok', {});

    const samples = await eventually(async () => {
      const s = await scrape(app!);
      expect(depth(s, crew)?.workers).toEqual([3]);
      expect(depth(s, unregistered)?.jobs.completed).toBe(1);
      return s;
    });
    expect(depth(samples, main)).toEqual({
      jobs: {
        ...none,
        waiting: 3,
        active: 1,
        delayed: 2,
        prioritized: 1,
        'waiting-children': 1,
        failed: 1,
        completed: 2,
      },
      workers: [1],
    });
    expect(depth(samples, kids)).toEqual({
      jobs: { ...none, waiting: 2 },
      workers: [0],
    });
    // BullMQ 6 keeps them in the wait list; the library counts them as paused.
    expect(await pausedQueue.getJobCounts('waiting')).toEqual({
      waiting: 2,
    });
    expect(depth(samples, paused)).toEqual({
      jobs: { ...none, paused: 2 },
      workers: [0],
    });
    expect(depth(samples, crew)).toEqual({ jobs: none, workers: [3] });
    expect(depth(samples, unregistered)).toEqual({
      jobs: { ...none, completed: 1 },
      workers: [1],
    });

    // Live values: the held job completes, a crew worker leaves.
    gate.open();
    await crewWorkers[0].close();
    const after = await eventually(async () => {
      const s = await scrape(app!);
      expect(depth(s, main)?.jobs.completed).toBe(2 + 1 + 3 + 1);
      expect(depth(s, crew)?.workers).toEqual([2]);
      return s;
    });
    expect(depth(after, main)?.jobs).toEqual({
      ...none,
      delayed: 2,
      'waiting-children': 1,
      failed: 1,
      completed: 7,
    });
  });

  it('serves one reading per cacheSeconds', async () => {
    const name = uniqueQueueName('depth-cache');
    const queue = queueOf(name);
    app = await createApp({
      imports: [
        MetricsModule.forRoot({
          defaultMetrics: false,
          queueDepth: { cacheSeconds: 3600 },
        }),
        BullModule.forRoot({ connection: REDIS }),
        BullModule.registerQueue({ name }),
      ],
    });
    await queue.add('ok', {});
    expect(depth(await scrape(app), name)?.jobs.waiting).toBe(1);
    await queue.add('ok', {});
    expect(await queue.getJobCounts('waiting')).toEqual({ waiting: 2 });
    expect(depth(await scrape(app), name)?.jobs.waiting).toBe(1);
  });

  it('is off with queueDepth: false', async () => {
    const name = uniqueQueueName('depth-off');
    const queue = queueOf(name);
    app = await createApp({
      imports: [
        MetricsModule.forRoot({ defaultMetrics: false, queueDepth: false }),
        BullModule.forRoot({ connection: REDIS }),
        BullModule.registerQueue({ name }),
      ],
    });
    await queue.add('ok', {});
    const samples = await scrape(app);
    expect(find(samples, 'queue_jobs')).toEqual([]);
    expect(find(samples, 'queue_workers')).toEqual([]);
  });

  async function appThroughProxy(
    name: string,
    timeoutSeconds: number,
    logger: CaptureLogger | false = false,
  ) {
    const proxy = await PausableProxy.start(REDIS.port, REDIS.host);
    cleanUps.push(() => proxy.close());
    app = await createApp(
      {
        imports: [
          MetricsModule.forRoot({
            defaultMetrics: false,
            queueDepth: { cacheSeconds: 0, timeoutSeconds },
          }),
          BullModule.forRoot({
            connection: { host: REDIS.host, port: proxy.port },
          }),
          BullModule.registerQueue({ name }),
        ],
      },
      undefined,
      'express',
      { logger },
    );
    await app.get<Queue>(getQueueToken(name)).waitUntilReady();
    // Resumed before the app closes, whatever the test did.
    cleanUps.unshift(async () => proxy.resume());
    return proxy;
  }

  it('reads a queue in one round trip: its commands are all sent before the first answer', async () => {
    const name = uniqueQueueName('depth-trip');
    const direct = queueOf(name);
    const proxy = await appThroughProxy(name, 30);
    await direct.add('ok', {});
    // The first reading also loads BullMQ's script into Redis when it is not there yet.
    expect(depth(await scrape(app!), name)?.jobs.waiting).toBe(1);
    const mark = proxy.sentBytes();
    proxy.holdAnswers();
    const scraping = scrape(app!);
    const commands = await eventually(() => {
      const sent = proxy.redisCommands(mark);
      expect(sent).toHaveLength(3);
      return sent;
    });
    expect(commands.map((command) => command[0].toLowerCase()).sort()).toEqual([
      'client',
      'evalsha',
      'hexists',
    ]);
    proxy.resume();
    expect(depth(await scraping, name)).toEqual({
      jobs: { ...none, waiting: 1 },
      workers: [0],
    });
    expect(proxy.redisCommands(mark)).toHaveLength(3);
  });

  it('serves the last reading, or none, while Redis is slow, with one warning per streak', async () => {
    const name = uniqueQueueName('depth-slow');
    const direct = queueOf(name);
    const logger = new CaptureLogger();
    const proxy = await appThroughProxy(name, 0.2, logger);
    const warnings = () =>
      logger.matching(new RegExp(`depth of queue "${name}" was not read`));
    await direct.add('ok', {});
    await direct.add('ok', {});

    // Slow before the first reading: nothing to serve.
    proxy.pause();
    expect(depth(await scrape(app!), name)).toBeUndefined();
    expect(depth(await scrape(app!), name)).toBeUndefined();
    expect(warnings().map((line) => line.message)).toEqual([
      `nestjs-metrics: the depth of queue "${name}" was not read within 200 ms; its queue_jobs and queue_workers series are left out until Redis answers in time again.`,
    ]);

    proxy.resume();
    await eventually(async () =>
      expect(depth(await scrape(app!), name)?.jobs.waiting).toBe(2),
    );

    // Slow again (Redis gets the commands, its answers are held): the last reading is served,
    // no second reading is sent while the first waits, and the new streak is logged once.
    await direct.add('ok', {});
    const mark = proxy.sentBytes();
    proxy.holdAnswers();
    expect(depth(await scrape(app!), name)).toEqual({
      jobs: { ...none, waiting: 2 },
      workers: [0],
    });
    expect(depth(await scrape(app!), name)?.jobs.waiting).toBe(2);
    expect(proxy.redisCommands(mark)).toHaveLength(3);
    expect(warnings().map((line) => line.message)).toEqual([
      expect.stringContaining('are left out'),
      `nestjs-metrics: the depth of queue "${name}" was not read within 200 ms; the last value read is served until Redis answers in time again.`,
    ]);

    proxy.resume();
    await eventually(async () =>
      expect(depth(await scrape(app!), name)?.jobs.waiting).toBe(3),
    );
    expect(warnings()).toHaveLength(2);
  });
});
