import 'reflect-metadata';
import { EventEmitter } from 'node:events';
import type { AddressInfo } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import {
  Body,
  Controller,
  Get,
  Injectable,
  Module,
  Post,
  type INestApplication,
  type Type,
} from '@nestjs/common';
import { BullModule, Processor, WorkerHost } from '@nestjs/bullmq';
import { WsAdapter } from '@nestjs/platform-ws';
import { SubscribeMessage, WebSocketGateway } from '@nestjs/websockets';
import type { Job } from 'bullmq';
import type { Counter, Gauge, Histogram } from 'prom-client';
import { delay as delayed, of, tap, type Observable } from 'rxjs';
import WebSocket from 'ws';
import {
  Counted,
  MetricsModule,
  MetricsService,
  Timed,
  type MetricsModuleOptions,
} from '../lib/index.js';
import { handlerContextSwitch } from '../lib/context/handler-context.js';
import { METRICS_RESOLVED_OPTIONS } from '../lib/metrics.constants.js';
import { producer, REDIS, uniqueQueueName } from './fixtures/queue.fixtures.js';
import { ADAPTERS, createApp } from './helpers/create-app.js';
import { KeepAliveClient } from './helpers/http-client.js';
import {
  eventually,
  find,
  parseSamples,
  type Sample,
} from './helpers/metrics-text.js';
import { requireService } from './helpers/requirements.js';

const BYTES = 'bytes_processed_total';
/** Emits outside any handler's own code: its listener was added at start-up. */
const events = new EventEmitter();

@Injectable()
class Work {
  readonly bytes: Counter<'kind'>;
  readonly size: Gauge<string>;
  readonly seconds: Histogram<string>;
  readonly plain: Counter<'kind'>;

  constructor(metrics: MetricsService) {
    this.bytes = metrics.counter(BYTES, {
      labelNames: ['kind'],
      handlerLabels: true,
    });
    this.size = metrics.gauge('last_size_bytes', { handlerLabels: true });
    this.seconds = metrics.histogram('work_seconds', { handlerLabels: true });
    this.plain = metrics.counter('plain_total', { labelNames: ['kind'] });
    events.on('done', () => this.bytes.inc({ kind: 'event' }));
  }

  @Timed('step_seconds', { handlerLabels: true })
  async step(): Promise<void> {
    await delay(2);
  }

  @Counted('helper_calls_total', { handlerLabels: true })
  helper(): void {}
}

@Controller('items')
class ItemsController {
  constructor(private readonly work: Work) {}

  @Get(':id/await')
  async awaited(): Promise<string> {
    await delay(10);
    this.work.bytes.inc({ kind: 'await' }, 3);
    this.work.size.set(7);
    this.work.seconds.observe(0.2);
    this.work.plain.inc({ kind: 'await' });
    return 'ok';
  }

  @Get('callback')
  callback(): Promise<string> {
    return new Promise((resolve) =>
      setTimeout(() => {
        this.work.bytes.inc({ kind: 'timer' });
        setTimeout(() => {
          events.emit('done');
          resolve('ok');
        }, 5);
      }, 5),
    );
  }

  @Get('stream')
  stream(): Observable<string> {
    return of('ok').pipe(
      delayed(10),
      tap(() => this.work.bytes.inc({ kind: 'rxjs' })),
    );
  }

  @Post('upload')
  async upload(@Body() body: unknown): Promise<string> {
    await delay(1);
    this.work.bytes.inc({ kind: 'body' }, JSON.stringify(body).length);
    return 'ok';
  }

  @Get('timed')
  async timed(): Promise<string> {
    await this.work.step();
    this.work.helper();
    return 'ok';
  }

  @Get('excluded')
  excluded(): string {
    this.work.bytes.inc({ kind: 'excluded' });
    return 'ok';
  }
}

@Module({ controllers: [ItemsController], providers: [Work] })
class ItemsModule {}

const http = (route: string) => ({ transport: 'http', route });
const NONE = { transport: 'none', route: 'none' };

async function samples(app: INestApplication): Promise<Sample[]> {
  return parseSamples(await app.get(MetricsService).metrics());
}

/** The values of `name`, as `[labels, value]`, in exposition order. */
function values(found: Sample[], name: string): [object, number][] {
  return find(found, name).map((s) => [s.labels, s.value]);
}

async function listening(
  metadata: Parameters<typeof createApp>[0],
  adapter: (typeof ADAPTERS)[number] = 'express',
): Promise<{ app: INestApplication; client: KeepAliveClient }> {
  const app = await createApp(metadata, undefined, adapter);
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as AddressInfo;
  // One connection: each request reuses the socket of the one before.
  return { app, client: new KeepAliveClient(port, 1) };
}

function metricsModule(options: MetricsModuleOptions = {}) {
  return MetricsModule.forRoot({ defaultMetrics: false, ...options });
}

describe.each(ADAPTERS)('handler labels over HTTP (%s)', (adapter) => {
  let app: INestApplication;
  let client: KeepAliveClient;

  beforeAll(async () => {
    ({ app, client } = await listening(
      {
        imports: [
          metricsModule({ excludePaths: ['/items/excluded'] }),
          ItemsModule,
        ],
      },
      adapter,
    ));
    for (const path of [
      '/items/1/await',
      '/items/2/await',
      '/items/callback',
      '/items/stream',
      '/items/excluded',
      '/items/timed',
    ])
      expect((await client.send({ path })).status).toBe(200);
    const body = Buffer.from(JSON.stringify({ name: 'pen', size: 12 }));
    const upload = await client.send({
      method: 'POST',
      path: '/items/upload',
      headers: { 'content-type': 'application/json' },
      body,
    });
    expect(upload.status).toBe(201);
    app.get(Work).bytes.inc({ kind: 'outside' });
    // The 'done' listener runs in a timer of its request, after the response was sent.
    await eventually(async () =>
      expect(find(await samples(app), BYTES, { kind: 'event' }).length).toBe(1),
    );
  });

  afterAll(() => app.close());

  it('labels every observation with the route of its request, across awaits, timers, events and rxjs', async () => {
    const body = JSON.stringify({ name: 'pen', size: 12 }).length;
    expect(values(await samples(app), BYTES)).toEqual([
      [{ kind: 'await', ...http('/items/:id/await') }, 6],
      [{ kind: 'timer', ...http('/items/callback') }, 1],
      [{ kind: 'event', ...http('/items/callback') }, 1],
      [{ kind: 'rxjs', ...http('/items/stream') }, 1],
      [{ kind: 'excluded', ...NONE }, 1],
      [{ kind: 'body', ...http('/items/upload') }, body],
      [{ kind: 'outside', ...NONE }, 1],
    ]);
  });

  it('gauges, histograms, @Timed and @Counted get the labels too; other metrics do not', async () => {
    const found = await samples(app);
    expect(values(found, 'last_size_bytes')).toEqual([
      [http('/items/:id/await'), 7],
    ]);
    expect(values(found, 'work_seconds_count')).toEqual([
      [http('/items/:id/await'), 2],
    ]);
    expect(
      find(found, 'step_seconds_count').map((s) => [
        s.labels.transport,
        s.labels.route,
        s.labels.method,
        s.value,
      ]),
    ).toEqual([['http', '/items/timed', 'step', 1]]);
    expect(
      find(found, 'helper_calls_total').map((s) => [
        s.labels.transport,
        s.labels.route,
        s.value,
      ]),
    ).toEqual([['http', '/items/timed', 1]]);
    expect(values(found, 'plain_total')).toEqual([[{ kind: 'await' }, 2]]);
  });
});

@Controller()
class LazyController {
  constructor(private readonly metrics: MetricsService) {}

  @Get('lazy')
  lazy(): string {
    this.metrics.counter('lazy_total', { handlerLabels: true }).inc();
    return 'ok';
  }

  @Get('plain')
  plain(): string {
    this.metrics.counter('plain_requests_total').inc();
    return 'ok';
  }
}

describe('when the context is entered', () => {
  it('only once a metric asked: the request that creates one reads none, the next ones their route', async () => {
    const { app, client } = await listening({
      imports: [metricsModule()],
      controllers: [LazyController],
    });
    try {
      const options = app.get(METRICS_RESOLVED_OPTIONS) as object;
      await client.send({ path: '/plain' });
      expect(handlerContextSwitch(options).on).toBe(false);
      await client.send({ path: '/lazy' });
      expect(handlerContextSwitch(options).on).toBe(true);
      await client.send({ path: '/lazy' });
      await client.send({ path: '/lazy' });
      expect(values(await samples(app), 'lazy_total')).toEqual([
        [NONE, 1],
        [http('/lazy'), 2],
      ]);
    } finally {
      await app.close();
    }
  });

  it('routes beyond maxSeries read OVERFLOW, as in the request families', async () => {
    const { app, client } = await listening({
      imports: [metricsModule({ maxSeries: 1 }), ItemsModule],
    });
    try {
      await client.send({ path: '/items/1/await' });
      await client.send({ path: '/items/stream' });
      const found = await samples(app);
      expect(
        find(found, BYTES).map((s) => [s.labels.kind, s.labels.route, s.value]),
      ).toEqual([
        ['await', '/items/:id/await', 3],
        ['OVERFLOW', 'OVERFLOW', 1],
      ]);
    } finally {
      await app.close();
    }
  });
});

@WebSocketGateway()
class MeasureGateway {
  constructor(private readonly work: Work) {}

  @SubscribeMessage('measure')
  measure(): Observable<{ event: string; data: number }> {
    return of({ event: 'measured', data: 1 }).pipe(
      delayed(10),
      tap(() => this.work.bytes.inc({ kind: 'ws' })),
    );
  }
}

describe('handler labels in a WebSocket gateway (WsAdapter)', () => {
  it('labels observations made in the handler’s Observable with transport ws and the event', async () => {
    const app = await createApp(
      {
        imports: [metricsModule()],
        providers: [Work, MeasureGateway],
      },
      (made) => made.useWebSocketAdapter(new WsAdapter(made)),
    );
    try {
      await app.listen(0, '127.0.0.1');
      const { port } = app.getHttpServer().address() as AddressInfo;
      const socket = new WebSocket(`ws://127.0.0.1:${port}`);
      await new Promise((resolve, reject) => {
        socket.once('open', resolve);
        socket.once('error', reject);
      });
      const replies: unknown[] = [];
      socket.on('message', (raw) => replies.push(JSON.parse(String(raw))));
      socket.send(JSON.stringify({ event: 'measure', data: null }));
      socket.send(JSON.stringify({ event: 'measure', data: null }));
      await eventually(() => expect(replies).toHaveLength(2));
      socket.close();
      expect(values(await samples(app), BYTES)).toEqual([
        [{ kind: 'ws', transport: 'ws', route: 'measure' }, 2],
      ]);
    } finally {
      await app.close();
    }
  });
});

const redis = await requireService('redis', 'the BullMQ handler label test');

function labelledProcessor(queueName: string): Type<WorkerHost> {
  class LabelledProcessor extends WorkerHost {
    constructor(private readonly work: Work) {
      super();
    }

    async process(job: Job<{ size: number }>): Promise<string> {
      await delay(5);
      this.work.bytes.inc({ kind: 'job' }, job.data.size);
      setTimeout(() => this.work.size.set(job.data.size), 1);
      return 'done';
    }
  }
  Reflect.defineMetadata('design:paramtypes', [Work], LabelledProcessor);
  Processor(queueName)(LabelledProcessor);
  return LabelledProcessor;
}

(redis ? describe : describe.skip)('handler labels in a BullMQ job', () => {
  it('labels observations of the job with transport queue and the queue name', async () => {
    const name = uniqueQueueName('handler-labels');
    const queue = producer(name);
    const app = await createApp({
      imports: [
        metricsModule(),
        BullModule.forRoot({ connection: REDIS }),
        BullModule.registerQueue({ name }),
      ],
      providers: [Work, labelledProcessor(name)],
    });
    try {
      await queue.add('first', { size: 4 });
      await queue.add('second', { size: 6 });
      await eventually(async () =>
        expect(
          await queue.getJobCounts('completed').then((c) => c.completed),
        ).toBe(2),
      );
      await eventually(async () =>
        expect(values(await samples(app), 'last_size_bytes')).toHaveLength(1),
      );
      const found = await samples(app);
      expect(values(found, BYTES)).toEqual([
        [{ kind: 'job', transport: 'queue', route: name }, 10],
      ]);
      expect(
        find(found, 'last_size_bytes').map((s) => [
          s.labels.transport,
          s.labels.route,
        ]),
      ).toEqual([['queue', name]]);
    } finally {
      await app.close();
      await queue.cleanUp();
    }
  });
});
