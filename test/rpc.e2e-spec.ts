import 'reflect-metadata';
import type { INestApplication, INestMicroservice } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import {
  ClientProxyFactory,
  Transport,
  type ClientProxy,
} from '@nestjs/microservices';
import { firstValueFrom, lastValueFrom, toArray } from 'rxjs';
import request from 'supertest';
import { MetricsModule, MetricsService } from '../lib/index.js';
import type { MetricsModuleOptions } from '../lib/index.js';
import {
  EventLog,
  Gate,
  NS,
  p,
  RpcFixtureModule,
  TagInterceptor,
} from './fixtures/rpc-fixture.module.js';
import { freePort } from './helpers/free-port.js';
import { requireService, type ServiceName } from './helpers/requirements.js';
import {
  eventually,
  find,
  parseSamples,
  sum,
  type Sample,
} from './helpers/metrics-text.js';

type TransportOptions = { transport: Transport; options: object };
type Mode = 'standalone' | 'hybrid';

interface Broker {
  name: string;
  /** Options for one server and its client; a new queue or port each call. */
  options(): Promise<TransportOptions>;
}

let queues = 0;
const brokers: Broker[] = [
  {
    name: 'TCP',
    options: async () => ({
      transport: Transport.TCP,
      options: { host: '127.0.0.1', port: await freePort() },
    }),
  },
  {
    name: 'Redis',
    options: async () => ({
      transport: Transport.REDIS,
      options: { host: '127.0.0.1', port: 6379 },
    }),
  },
  {
    name: 'NATS',
    options: async () => ({
      transport: Transport.NATS,
      options: { servers: ['nats://127.0.0.1:4222'] },
    }),
  },
  {
    name: 'RabbitMQ',
    options: async () => ({
      transport: Transport.RMQ,
      options: {
        urls: ['amqp://guest:guest@127.0.0.1:5672'],
        queue: `${NS}-${++queues}`,
        queueOptions: { durable: false, autoDelete: true },
      },
    }),
  },
  {
    name: 'MQTT',
    options: async () => ({
      transport: Transport.MQTT,
      options: { url: 'mqtt://127.0.0.1:1883' },
    }),
  },
];
/** The broker each transport needs; without it (locally) its tests are skipped. */
const SERVICE: Record<string, ServiceName> = {
  Redis: 'redis',
  NATS: 'nats',
  RabbitMQ: 'rabbitmq',
  MQTT: 'mosquitto',
};
const reachable = new Set<string>(['TCP']);
for (const [name, service] of Object.entries(SERVICE))
  if (await requireService(service, `the microservice tests over ${name}`))
    reachable.add(name);

/** A running app with the fixture's handlers, and a real client of its transport. */
class Running {
  constructor(
    readonly moduleRef: TestingModule,
    readonly client: ClientProxy,
    private readonly app: INestApplication | INestMicroservice,
    private readonly http: INestApplication | undefined,
  ) {}

  static async start(
    mode: Mode,
    transport: TransportOptions,
    moduleOptions: MetricsModuleOptions = {},
    inheritAppConfig = false,
  ): Promise<Running> {
    const moduleRef = await Test.createTestingModule({
      imports: [
        MetricsModule.forRoot({ defaultMetrics: false, ...moduleOptions }),
        RpcFixtureModule,
      ],
    }).compile();
    let running: Running;
    if (mode === 'standalone') {
      const microservice = moduleRef.createNestMicroservice({
        ...transport,
        logger: false,
      });
      await microservice.listen();
      running = new Running(
        moduleRef,
        client(transport),
        microservice,
        undefined,
      );
    } else {
      const app = moduleRef.createNestApplication({ logger: false });
      app.connectMicroservice(transport, { inheritAppConfig });
      await app.startAllMicroservices();
      await app.init();
      running = new Running(moduleRef, client(transport), app, app);
    }
    await running.client.connect();
    return running;
  }

  /** The exposition: from `/metrics` in a hybrid app, from `MetricsService` in a standalone one. */
  async samples(): Promise<Sample[]> {
    if (this.http === undefined)
      return parseSamples(await this.moduleRef.get(MetricsService).metrics());
    const response = await request(this.http.getHttpServer())
      .get('/metrics')
      .expect(200);
    return parseSamples(response.text);
  }

  httpServer(): ReturnType<INestApplication['getHttpServer']> {
    if (this.http === undefined)
      throw new Error('a standalone app has no HTTP server');
    return this.http.getHttpServer();
  }

  send<T>(pattern: unknown, data: unknown): Promise<T> {
    return firstValueFrom(this.client.send<T>(pattern, data));
  }

  async close(): Promise<void> {
    await this.client.close();
    await this.app.close();
  }
}

function client(transport: TransportOptions): ClientProxy {
  return ClientProxyFactory.create(
    transport as never,
  ) as unknown as ClientProxy;
}

const rpc = { transport: 'rpc' };
const requests = (
  samples: Sample[],
  route: string,
  status: string,
  method = 'message',
) => sum(samples, 'requests_total', { ...rpc, method, route, status });
const errors = (
  samples: Sample[],
  route: string,
  errorType: string,
  method = 'message',
) =>
  sum(samples, 'errors_total', {
    ...rpc,
    method,
    route,
    error_type: errorType,
  });
const bytes = (
  samples: Sample[],
  family: 'request_bytes_total' | 'response_bytes_total',
  route: string,
  method = 'message',
) => sum(samples, family, { ...rpc, method, route });
const inFlight = (samples: Sample[]) =>
  find(samples, 'concurrent_requests', rpc).map((s) => s.value);

const DOUBLE_ROUTE = `{"cmd":"${p('double')}","meta":{"a":"x","z":true},"v":1}`;

describe.each(brokers)('microservice handlers over $name', (broker) => {
  const describeIf = reachable.has(broker.name) ? describe : describe.skip;
  describeIf.each<Mode>(['standalone', 'hybrid'])('%s', (mode) => {
    let running: Running;

    beforeAll(async () => {
      running = await Running.start(mode, await broker.options());
    });

    afterAll(async () => {
      await running?.close();
    });

    it('counts every message once under its pattern, with payload and reply sizes', async () => {
      expect(inFlight(await running.samples())).toEqual([0]);

      expect(await running.send(p('sum'), [1, 2, 3])).toBe(6);
      expect(await running.send(p('sum'), [10, 20, 30])).toBe(60);
      expect(
        await running.send(
          { meta: { a: 'x', z: true }, cmd: p('double'), v: 1 },
          21,
        ),
      ).toBe(42);
      expect(await running.send(p('alias.a'), {})).toBe('aliased');
      expect(await running.send(p('alias.b'), {})).toBe('aliased');
      expect(await running.send(p('alias.b'), {})).toBe('aliased');
      expect(
        await lastValueFrom(
          running.client.send<number>(p('count'), 3).pipe(toArray()),
        ),
      ).toEqual([1, 2, 3]);

      const samples = await eventually(async () => {
        const s = await running.samples();
        expect(requests(s, p('count'), 'ok')).toBe(1);
        return s;
      });
      expect(requests(samples, p('sum'), 'ok')).toBe(2);
      expect(bytes(samples, 'request_bytes_total', p('sum'))).toBe(
        '[1,2,3]'.length + '[10,20,30]'.length,
      );
      expect(bytes(samples, 'response_bytes_total', p('sum'))).toBe(
        '6'.length + '60'.length,
      );
      expect(
        sum(samples, 'request_duration_seconds_count', {
          ...rpc,
          route: p('sum'),
        }),
      ).toBe(2);
      expect(requests(samples, DOUBLE_ROUTE, 'ok')).toBe(1);
      expect(bytes(samples, 'response_bytes_total', DOUBLE_ROUTE)).toBe(2);
      expect(requests(samples, p('alias.a'), 'ok')).toBe(1);
      expect(requests(samples, p('alias.b'), 'ok')).toBe(2);
      // An Observable is timed to completion: one request, three replies.
      expect(bytes(samples, 'response_bytes_total', p('count'))).toBe(3);
      expect(sum(samples, 'requests_total', rpc)).toBe(7);
      expect(sum(samples, 'errors_total', rpc)).toBe(0);
      expect(sum(samples, 'requests_total', { transport: 'http' })).toBe(0);
      expect(inFlight(samples)).toEqual([0]);
    });

    it('counts failed messages with their error_type', async () => {
      await expect(
        running.send(p('validate'), { quantity: 0 }),
      ).rejects.toBeDefined();
      expect(await running.send(p('validate'), { quantity: 2 })).toBe(2);
      await expect(running.send(p('bad-request'), {})).rejects.toBeDefined();
      await expect(running.send(p('refuse'), {})).rejects.toBeDefined();
      await expect(running.send(p('boom'), {})).rejects.toBeDefined();
      await expect(running.send(p('slow'), {})).rejects.toBeDefined();
      await expect(
        lastValueFrom(running.client.send(p('count.fail'), {})),
      ).rejects.toBeDefined();

      const samples = await eventually(async () => {
        const s = await running.samples();
        expect(requests(s, p('count.fail'), 'error')).toBe(1);
        return s;
      });
      expect(requests(samples, p('validate'), 'error')).toBe(1);
      expect(requests(samples, p('validate'), 'ok')).toBe(1);
      expect(errors(samples, p('validate'), 'validation')).toBe(1);
      expect(errors(samples, p('bad-request'), 'validation')).toBe(1);
      expect(errors(samples, p('refuse'), 'client_error')).toBe(1);
      expect(errors(samples, p('boom'), 'internal')).toBe(1);
      expect(errors(samples, p('slow'), 'timeout')).toBe(1);
      expect(errors(samples, p('count.fail'), 'internal')).toBe(1);
      // The value the stream sent before it failed was sent.
      expect(bytes(samples, 'response_bytes_total', p('count.fail'))).toBe(1);
      expect(
        sum(samples, 'errors_total', {
          ...rpc,
          route: p('validate'),
        }),
      ).toBe(1);
      expect(inFlight(samples)).toEqual([0]);
    });

    it('counts events with method="event" and no reply bytes', async () => {
      const log = running.moduleRef.get(EventLog);
      const before = log.length;
      await firstValueFrom(running.client.emit(p('created'), { id: 1 }), {
        defaultValue: undefined,
      });
      await firstValueFrom(running.client.emit(p('created'), { id: 22 }), {
        defaultValue: undefined,
      });
      await firstValueFrom(running.client.emit(p('created.fail'), 'x'), {
        defaultValue: undefined,
      });

      const samples = await eventually(async () => {
        const s = await running.samples();
        expect(requests(s, p('created'), 'ok', 'event')).toBe(2);
        expect(requests(s, p('created.fail'), 'error', 'event')).toBe(1);
        return s;
      });
      expect(log.length - before).toBe(3);
      expect(errors(samples, p('created.fail'), 'internal', 'event')).toBe(1);
      expect(bytes(samples, 'request_bytes_total', p('created'), 'event')).toBe(
        '{"id":1}'.length + '{"id":22}'.length,
      );
      expect(
        bytes(samples, 'response_bytes_total', p('created'), 'event'),
      ).toBe(0);
      expect(requests(samples, p('created'), 'ok', 'message')).toBe(0);
      await eventually(async () =>
        expect(inFlight(await running.samples())).toEqual([0]),
      );
    });
  });
});

describe('microservice handlers (TCP): what else is and is not counted', () => {
  let running: Running | undefined;
  const others: Running[] = [];

  afterEach(async () => {
    await running?.close();
    running = undefined;
    for (const other of others.splice(0)) await other.close();
  });

  const tcp = () => brokers[0].options();

  it('shows a message in flight in concurrent_requests until its reply', async () => {
    running = await Running.start('hybrid', await tcp());
    const gate = running.moduleRef.get(Gate);
    gate.close();
    const reply = running.send(p('held'), {});
    await eventually(() => expect(gate.entered).toBe(1));
    expect(inFlight(await running.samples())).toEqual([1]);
    gate.open();
    expect(await reply).toBe('released');
    await eventually(async () =>
      expect(inFlight(await running!.samples())).toEqual([0]),
    );
    expect(requests(await running.samples(), p('held'), 'ok')).toBe(1);
  });

  it('does not see a message a guard rejects (guards run before interceptors)', async () => {
    running = await Running.start('standalone', await tcp());
    await expect(running.send(p('guarded'), {})).rejects.toBeDefined();
    expect(await running.send(p('sum'), [1])).toBe(1);
    const samples = await eventually(async () => {
      const s = await running!.samples();
      expect(requests(s, p('sum'), 'ok')).toBe(1);
      return s;
    });
    expect(sum(samples, 'requests_total', { route: p('guarded') })).toBe(0);
    expect(sum(samples, 'requests_total', rpc)).toBe(1);
  });

  it("keeps the app's own interceptors and counts HTTP routes of a hybrid controller once, as http", async () => {
    running = await Running.start('hybrid', await tcp());
    const tag = running.moduleRef.get(TagInterceptor);
    expect(await running.send(p('sum'), [2, 2])).toBe(4);
    expect(tag.calls).toBe(1);
    await request(running.httpServer()).get('/rpc-fixture/ping').expect(200);
    expect(tag.calls).toBe(2);
    const samples = await eventually(async () => {
      const s = await running!.samples();
      expect(requests(s, p('sum'), 'ok')).toBe(1);
      expect(
        sum(s, 'requests_total', {
          transport: 'http',
          route: '/rpc-fixture/ping',
        }),
      ).toBe(1);
      return s;
    });
    expect(sum(samples, 'requests_total', rpc)).toBe(1);
    expect(sum(samples, 'requests_total', { route: '/rpc-fixture/ping' })).toBe(
      1,
    );
  });

  it.each(['hybrid', 'standalone'] as const)(
    'measures @Counted on a message handler (%s, without inheritAppConfig)',
    async (mode) => {
      running = await Running.start(mode, await tcp());
      expect(await running.send(p('sum'), [1, 2])).toBe(3);
      expect(await running.send(p('sum'), [3])).toBe(3);
      const samples = await eventually(async () => {
        const s = await running!.samples();
        expect(requests(s, p('sum'), 'ok')).toBe(2);
        return s;
      });
      expect(find(samples, 'rpc_sums_total')).toEqual([
        {
          name: 'rpc_sums_total',
          labels: {
            class: 'MathController',
            method: 'sum',
            result: 'success',
            exception: 'none',
          },
          value: 2,
        },
      ]);
    },
  );

  it('counts once in a hybrid app that inherits the app config (global interceptor too)', async () => {
    running = await Running.start('hybrid', await tcp(), {}, true);
    expect(await running.send(p('sum'), [1, 1])).toBe(2);
    await expect(running.send(p('boom'), {})).rejects.toBeDefined();
    const samples = await eventually(async () => {
      const s = await running!.samples();
      expect(requests(s, p('boom'), 'error')).toBe(1);
      return s;
    });
    expect(requests(samples, p('sum'), 'ok')).toBe(1);
    expect(errors(samples, p('boom'), 'internal')).toBe(1);
    expect(sum(samples, 'requests_total', rpc)).toBe(2);
  });

  it('counts a message only in the app that received it when two apps share the process', async () => {
    const first = await Running.start('hybrid', await tcp());
    others.push(first);
    running = await Running.start('standalone', await tcp());
    expect(await running.send(p('sum'), [5])).toBe(5);
    expect(await first.send(p('sum'), [6])).toBe(6);
    expect(await first.send(p('sum'), [7])).toBe(7);
    const [inSecond, inFirst] = await eventually(async () => {
      const second = await running!.samples();
      const firstSamples = await first.samples();
      expect(requests(firstSamples, p('sum'), 'ok')).toBe(2);
      return [second, firstSamples];
    });
    expect(requests(inSecond, p('sum'), 'ok')).toBe(1);
    expect(sum(inFirst, 'requests_total', rpc)).toBe(2);
    expect(sum(inSecond, 'requests_total', rpc)).toBe(1);
  });

  it('records nothing for messages when the module is disabled', async () => {
    running = await Running.start('standalone', await tcp(), {
      enabled: false,
    });
    expect(await running.send(p('sum'), [3])).toBe(3);
    const samples = parseSamples(
      await running.moduleRef.get(MetricsService).metrics(),
    );
    expect(find(samples, 'requests_total')).toEqual([]);
    expect(find(samples, 'concurrent_requests')).toEqual([]);
  });
});
