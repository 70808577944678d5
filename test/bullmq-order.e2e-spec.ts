import 'reflect-metadata';
import {
  Injectable,
  Module,
  Scope,
  type DynamicModule,
  type INestApplication,
  type OnModuleInit,
} from '@nestjs/common';
import { BullModule, Processor, WorkerHost } from '@nestjs/bullmq';
import { Queue, type Job } from 'bullmq';
import { MetricsModule, MetricsService } from '../lib/index.js';
import { createApp } from './helpers/create-app.js';
import { eventually, parseSamples, sum } from './helpers/metrics-text.js';
import { producer, REDIS, uniqueQueueName } from './fixtures/queue.fixtures.js';

const JOBS = 6;

/**
 * A module whose `onModuleInit` does I/O until the queue's workers have taken every waiting job:
 * between BullModule's hook (which starts the workers) and a later one, jobs already run.
 */
function ioBoundModule(queueName: string): DynamicModule {
  @Injectable()
  class WaitsForRedis implements OnModuleInit {
    async onModuleInit(): Promise<void> {
      const queue = new Queue(queueName, { connection: REDIS });
      try {
        for (;;) {
          const { completed } = await queue.getJobCounts('completed');
          if (completed === JOBS) return;
          await new Promise((resolve) => setTimeout(resolve, 10));
        }
      } finally {
        await queue.close();
      }
    }
  }
  @Module({ providers: [WaitsForRedis] })
  class IoBoundModule {}
  // Global, like BullModule and MetricsModule: hooks run by distance, then in import order.
  return { module: IoBoundModule, global: true };
}

function processorClass(queueName: string, scope: Scope) {
  @Injectable({ scope })
  class OrderProcessor extends WorkerHost {
    static runs = 0;
    process(job: Job): Promise<unknown> {
      OrderProcessor.runs++;
      return Promise.resolve({ n: job.data as unknown });
    }
  }
  Processor(queueName)(OrderProcessor);
  return OrderProcessor;
}

type Order = 'metrics first' | 'bull first' | 'bull, I/O, metrics';

function imports(
  order: Order,
  queueName: string,
  processor: ReturnType<typeof processorClass>,
): DynamicModule[] {
  const metrics = MetricsModule.forRoot({ defaultMetrics: false });
  const bull: DynamicModule[] = [
    BullModule.forRoot({ connection: REDIS }),
    BullModule.registerQueue({ name: queueName }),
    { module: class ProcessorModule {}, providers: [processor] },
  ];
  if (order === 'metrics first') return [metrics, ...bull];
  if (order === 'bull first') return [...bull, metrics];
  return [...bull, ioBoundModule(queueName), metrics];
}

describe.each<[Order, Scope]>([
  ['metrics first', Scope.DEFAULT],
  ['bull first', Scope.DEFAULT],
  ['bull, I/O, metrics', Scope.DEFAULT],
  ['bull first', Scope.REQUEST],
  ['bull, I/O, metrics', Scope.REQUEST],
])('BullMQ jobs waiting when the app starts (%s, scope %s)', (order, scope) => {
  let app: INestApplication | undefined;
  let queue: ReturnType<typeof producer> | undefined;

  afterEach(async () => {
    await app?.close();
    await queue?.cleanUp();
  });

  it('are all counted', async () => {
    const name = uniqueQueueName('order');
    queue = producer(name);
    for (let n = 0; n < JOBS; n++) await queue.add('waiting', n);
    const processor = processorClass(name, scope);
    app = await createApp({ imports: imports(order, name, processor) });

    await eventually(async () => {
      expect(await queue!.getJobCounts('completed')).toEqual({
        completed: JOBS,
      });
    }, 15000);
    expect(processor.runs).toBe(JOBS);
    const samples = parseSamples(await app.get(MetricsService).metrics());
    expect(
      sum(samples, 'requests_total', {
        transport: 'queue',
        route: name,
        method: 'waiting',
        status: 'ok',
      }),
    ).toBe(JOBS);
    expect(
      sum(samples, 'queue_wait_seconds_count', {
        queue: name,
        job_name: 'waiting',
      }),
    ).toBe(JOBS);
  });
});
