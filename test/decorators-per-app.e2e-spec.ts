import 'reflect-metadata';
import {
  Controller,
  Get,
  Inject,
  Injectable,
  Module,
  Scope,
  type DynamicModule,
  type INestApplication,
  type Type,
} from '@nestjs/common';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import {
  EventEmitter2,
  EventEmitterModule,
  OnEvent,
} from '@nestjs/event-emitter';
import {
  Cron,
  Interval,
  ScheduleModule,
  SchedulerRegistry,
} from '@nestjs/schedule';
import request from 'supertest';
import { Counted, MetricsModule, MetricsService, Timed } from '../lib/index.js';
import { ADAPTERS, type AdapterName } from './helpers/create-app.js';
import { eventually, parseSamples, sum } from './helpers/metrics-text.js';

const CALLS = 'method_calls_total';
const DURATION = 'method_duration_seconds_count';

async function calls(
  app: INestApplication,
  labels: Record<string, string>,
  name = CALLS,
): Promise<number> {
  return sum(
    parseSamples(await app.get(MetricsService).metrics()),
    name,
    labels,
  );
}

@Injectable()
class GreetingService {
  @Counted()
  greet(who: string): string {
    return `hello ${who}`;
  }
}

@Controller('greet')
class GreetingController {
  constructor(private readonly greetings: GreetingService) {}

  @Get()
  @Timed()
  @Counted()
  hello(): string {
    return this.greetings.greet('you');
  }
}

/** Compiles the module and creates its app, without initialising it. */
async function create(
  metadata: Parameters<typeof Test.createTestingModule>[0],
  adapter: AdapterName = 'express',
): Promise<INestApplication> {
  const moduleRef = await Test.createTestingModule(metadata).compile();
  return adapter === 'fastify'
    ? moduleRef.createNestApplication(new FastifyAdapter(), { logger: false })
    : moduleRef.createNestApplication({ logger: false });
}

async function start(app: INestApplication, adapter: AdapterName) {
  await app.init();
  if (adapter === 'fastify')
    await (
      app.getHttpAdapter().getInstance() as { ready(): Promise<unknown> }
    ).ready();
}

describe.each(ADAPTERS)(
  'two apps created before either starts (%s)',
  (adapter) => {
    const metadata = () => ({
      imports: [MetricsModule.forRoot({ defaultMetrics: false })],
      controllers: [GreetingController],
      providers: [GreetingService],
    });
    let first: INestApplication;
    let second: INestApplication;

    afterEach(async () => {
      await first?.close();
      await second?.close();
    });

    it('each count only their own calls of routes and providers', async () => {
      first = await create(metadata(), adapter);
      second = await create(metadata(), adapter);
      await start(first, adapter);
      await start(second, adapter);

      await request(first.getHttpServer())
        .get('/greet')
        .expect(200, 'hello you');
      await request(first.getHttpServer()).get('/greet').expect(200);
      await request(second.getHttpServer()).get('/greet').expect(200);
      second.get(GreetingService).greet('direct');

      const route = { class: 'GreetingController', method: 'hello' };
      const provider = { class: 'GreetingService', method: 'greet' };
      expect(await calls(first, route)).toBe(2);
      expect(await calls(first, route, DURATION)).toBe(2);
      expect(await calls(second, route)).toBe(1);
      expect(await calls(first, provider)).toBe(2);
      expect(await calls(second, provider)).toBe(2);
    });

    it('started in the reverse order of creation, and one app without the module', async () => {
      first = await create(metadata(), adapter);
      second = await create(
        { controllers: [GreetingController], providers: [GreetingService] },
        adapter,
      );
      await start(second, adapter);
      await start(first, adapter);

      await request(second.getHttpServer())
        .get('/greet')
        .expect(200, 'hello you');
      await request(first.getHttpServer()).get('/greet').expect(200);

      expect(await calls(first, { class: 'GreetingController' })).toBe(1);
      expect(await calls(first, { class: 'GreetingService' })).toBe(1);
    });
  },
);

// Request-scoped and transient providers.

@Injectable({ scope: Scope.REQUEST })
class RequestScopedService {
  @Counted()
  @Timed()
  work(): string {
    return 'request';
  }
}

@Injectable({ scope: Scope.TRANSIENT })
class TransientService {
  @Counted()
  work(): string {
    return 'transient';
  }
}

@Injectable()
class TransientConsumer {
  constructor(readonly transient: TransientService) {}
}

@Controller('scoped')
class ScopedController {
  constructor(
    private readonly scoped: RequestScopedService,
    private readonly transient: TransientService,
  ) {}

  @Get()
  run(): string {
    return `${this.scoped.work()} ${this.transient.work()}`;
  }
}

@Controller('transient')
class TransientController {
  constructor(private readonly consumer: TransientConsumer) {}

  @Get()
  run(): string {
    return this.consumer.transient.work();
  }
}

describe.each(ADAPTERS)(
  'request-scoped and transient providers (%s)',
  (adapter) => {
    const metadata = () => ({
      imports: [MetricsModule.forRoot({ defaultMetrics: false })],
      controllers: [ScopedController, TransientController],
      providers: [RequestScopedService, TransientService, TransientConsumer],
    });
    let first: INestApplication;
    let second: INestApplication;

    afterEach(async () => {
      await first?.close();
      await second?.close();
    });

    it('count every call, each in its own app', async () => {
      first = await create(metadata(), adapter);
      second = await create(metadata(), adapter);
      await start(first, adapter);
      await start(second, adapter);

      for (let i = 0; i < 3; i++)
        await request(first.getHttpServer())
          .get('/scoped')
          .expect(200, 'request transient');
      await request(second.getHttpServer()).get('/scoped').expect(200);
      await request(first.getHttpServer()).get('/transient').expect(200);
      await request(first.getHttpServer()).get('/transient').expect(200);
      first.get(TransientConsumer).transient.work();

      const scoped = { class: 'RequestScopedService', method: 'work' };
      const transient = { class: 'TransientService', method: 'work' };
      expect(await calls(first, scoped)).toBe(3);
      expect(await calls(first, scoped, DURATION)).toBe(3);
      expect(await calls(second, scoped)).toBe(1);
      // 3 from the request-scoped controller's own instances, 3 from the static consumer's.
      expect(await calls(first, transient)).toBe(6);
      expect(await calls(second, transient)).toBe(1);
    });
  },
);

/** Made by a request-scoped factory: its class is known only per request. */
@Counted('made_calls_total')
class FactoryMade {
  run(): string {
    return 'made';
  }
}

@Controller('made')
class FactoryMadeController {
  constructor(@Inject('MADE') private readonly made: FactoryMade) {}

  @Get()
  run(): string {
    return this.made.run();
  }
}

describe('a request-scoped factory provider', () => {
  it('is counted per call, with its class', async () => {
    const app = await create({
      imports: [MetricsModule.forRoot({ defaultMetrics: false })],
      controllers: [FactoryMadeController],
      providers: [
        {
          provide: 'MADE',
          scope: Scope.REQUEST,
          useFactory: () => Promise.resolve(new FactoryMade()),
        },
      ],
    });
    try {
      await app.init();
      await request(app.getHttpServer()).get('/made').expect(200, 'made');
      await request(app.getHttpServer()).get('/made').expect(200);
      expect(
        await calls(
          app,
          { class: 'FactoryMade', method: 'run' },
          'made_calls_total',
        ),
      ).toBe(2);
    } finally {
      await app.close();
    }
  });
});

// Import order with other explorers.

@Injectable()
class Ticker {
  intervalRuns = 0;
  cronRuns = 0;

  @Interval('nestjs-metrics-tick', 20)
  @Counted('ticks_total')
  tick(): void {
    this.intervalRuns++;
  }

  @Counted('crons_total')
  @Cron('* * * * * *', { name: 'nestjs-metrics-cron' })
  everySecond(): void {
    this.cronRuns++;
  }
}

@Injectable()
class OrderListener {
  received = 0;

  @OnEvent('order.created')
  @Timed()
  @Counted('order_events_total')
  onCreated(): void {
    this.received++;
  }

  @Counted('order_events_async_total')
  @OnEvent('order.created', { async: true })
  async onCreatedLater(): Promise<void> {
    await new Promise((resolve) => setImmediate(resolve));
  }
}

const metricsModule = (): DynamicModule =>
  MetricsModule.forRoot({ defaultMetrics: false });

async function createContext(imports: Array<DynamicModule | Type>) {
  @Module({ imports, providers: [Ticker, OrderListener] })
  class AppModule {}
  const moduleRef = await Test.createTestingModule({
    imports: [AppModule],
  }).compile();
  const app = moduleRef.createNestApplication({ logger: false });
  await app.init();
  return app;
}

describe.each([
  ['ScheduleModule first', () => [ScheduleModule.forRoot(), metricsModule()]],
  ['MetricsModule first', () => [metricsModule(), ScheduleModule.forRoot()]],
])('@Interval and @Cron methods, %s', (_order, imports) => {
  let app: INestApplication;

  afterEach(async () => {
    await app?.close();
  });

  it('are counted as many times as they ran', async () => {
    app = await createContext(imports());
    const ticker = app.get(Ticker);
    await eventually(() => {
      expect(ticker.cronRuns).toBeGreaterThanOrEqual(2);
    }, 5000);
    const registry = app.get(SchedulerRegistry);
    registry.deleteInterval('nestjs-metrics-tick');
    registry.getCronJob('nestjs-metrics-cron').stop();

    expect(ticker.intervalRuns).toBeGreaterThan(2);
    expect(await calls(app, { method: 'tick' }, 'ticks_total')).toBe(
      ticker.intervalRuns,
    );
    expect(await calls(app, { method: 'everySecond' }, 'crons_total')).toBe(
      ticker.cronRuns,
    );
  });
});

describe.each([
  [
    'EventEmitterModule first',
    () => [EventEmitterModule.forRoot(), metricsModule()],
  ],
  [
    'MetricsModule first',
    () => [metricsModule(), EventEmitterModule.forRoot()],
  ],
])('@OnEvent methods, %s', (_order, imports) => {
  let app: INestApplication;

  afterEach(async () => {
    await app?.close();
  });

  it('are counted once per event', async () => {
    app = await createContext(imports());
    const emitter = app.get(EventEmitter2);
    for (let i = 0; i < 5; i++) emitter.emit('order.created', { id: i });

    expect(app.get(OrderListener).received).toBe(5);
    expect(
      await calls(app, { method: 'onCreated' }, 'order_events_total'),
    ).toBe(5);
    expect(await calls(app, { method: 'onCreated' }, DURATION)).toBe(5);
    await eventually(async () =>
      expect(
        await calls(
          app,
          { method: 'onCreatedLater', result: 'success' },
          'order_events_async_total',
        ),
      ).toBe(5),
    );
  });
});

// The class a provider was declared with is what the app sees.
describe('a request-scoped provider', () => {
  it('keeps its class, name and metadata for the app', async () => {
    const app = await create({
      imports: [MetricsModule.forRoot({ defaultMetrics: false })],
      controllers: [ScopedController],
      providers: [RequestScopedService, TransientService],
    });
    try {
      await app.init();
      const instance = await app.resolve(RequestScopedService);
      expect(instance).toBeInstanceOf(RequestScopedService);
      expect(instance.constructor).toBe(RequestScopedService);
      expect(instance.work()).toBe('request');
      expect(await calls(app, { class: 'RequestScopedService' })).toBe(1);
    } finally {
      await app.close();
    }
  });
});
