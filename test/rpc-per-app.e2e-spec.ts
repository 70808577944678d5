import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import {
  Controller,
  type INestApplication,
  type INestMicroservice,
} from '@nestjs/common';
import {
  ClientProxyFactory,
  EventPattern,
  MessagePattern,
  Transport,
  type ClientProxy,
} from '@nestjs/microservices';
import { Test } from '@nestjs/testing';
import { firstValueFrom } from 'rxjs';
import { Counted, MetricsModule, MetricsService } from '../lib/index.js';
import { freePort } from './helpers/free-port.js';
import { eventually, parseSamples, sum } from './helpers/metrics-text.js';

const NS = `pa${randomUUID().slice(0, 8)}`;
const SUM = `${NS}.sum`;
const SEEN = `${NS}.seen`;

@Controller()
class AdderController {
  events = 0;

  @MessagePattern(SUM)
  @Counted('adder_calls_total')
  sum(values: number[]): number {
    return values.reduce((a, b) => a + b, 0);
  }

  @EventPattern(SEEN)
  seen(_data: unknown): void {
    this.events++;
  }
}

interface Started {
  app: INestApplication | INestMicroservice;
  client: ClientProxy;
  metrics: MetricsService;
}

async function compile() {
  return Test.createTestingModule({
    imports: [MetricsModule.forRoot({ defaultMetrics: false })],
    controllers: [AdderController],
  }).compile();
}

const rpc = (route: string, method = 'message') => ({
  transport: 'rpc',
  route,
  method,
});

async function requests(
  metrics: MetricsService,
  route: string,
  method?: string,
) {
  return sum(
    parseSamples(await metrics.metrics()),
    'requests_total',
    rpc(route, method),
  );
}

async function send(client: ClientProxy, values: number[]): Promise<number> {
  return firstValueFrom(client.send<number>(SUM, values));
}

describe('two microservice apps created before either connects (TCP)', () => {
  const started: Started[] = [];

  afterEach(async () => {
    for (const { app, client } of started.splice(0)) {
      await client.close();
      await app.close();
    }
  });

  it('hybrid apps: each counts exactly its own messages', async () => {
    const first = await compile();
    const second = await compile();
    const firstApp = first.createNestApplication({ logger: false });
    const secondApp = second.createNestApplication({ logger: false });
    const ports = [await freePort(), await freePort()];
    // Listeners are registered here, reading the handlers' interceptor metadata at once.
    secondApp.connectMicroservice({
      transport: Transport.TCP,
      options: { host: '127.0.0.1', port: ports[1] },
    });
    firstApp.connectMicroservice({
      transport: Transport.TCP,
      options: { host: '127.0.0.1', port: ports[0] },
    });
    for (const [i, app] of [firstApp, secondApp].entries()) {
      await app.startAllMicroservices();
      await app.init();
      const client = ClientProxyFactory.create({
        transport: Transport.TCP,
        options: { host: '127.0.0.1', port: ports[i] },
      });
      await client.connect();
      started.push({ app, client, metrics: app.get(MetricsService) });
    }
    const [a, b] = started;

    expect(await send(a.client, [1, 2])).toBe(3);
    expect(await send(a.client, [3])).toBe(3);
    expect(await send(a.client, [4])).toBe(4);
    expect(await send(b.client, [5])).toBe(5);
    await firstValueFrom(b.client.emit(SEEN, {}));
    await firstValueFrom(b.client.emit(SEEN, {}));
    await eventually(() =>
      expect(secondApp.get(AdderController).events).toBe(2),
    );

    await eventually(async () => {
      expect(await requests(a.metrics, SUM)).toBe(3);
      expect(await requests(b.metrics, SEEN, 'event')).toBe(2);
    });
    expect(await requests(b.metrics, SUM)).toBe(1);
    expect(await requests(a.metrics, SEEN, 'event')).toBe(0);
    const counted = (metrics: MetricsService) =>
      metrics
        .metrics()
        .then((text) => sum(parseSamples(text), 'adder_calls_total', {}));
    expect(await counted(a.metrics)).toBe(3);
    expect(await counted(b.metrics)).toBe(1);
  });

  it('standalone microservices: each counts exactly its own messages', async () => {
    const first = await compile();
    const second = await compile();
    const ports = [await freePort(), await freePort()];
    const apps = [first, second].map((moduleRef, i) =>
      moduleRef.createNestMicroservice({
        transport: Transport.TCP,
        options: { host: '127.0.0.1', port: ports[i] },
        logger: false,
      }),
    );
    // Started in the reverse order of creation.
    for (const app of [...apps].reverse()) await app.listen();
    for (const [i, app] of apps.entries()) {
      const client = ClientProxyFactory.create({
        transport: Transport.TCP,
        options: { host: '127.0.0.1', port: ports[i] },
      });
      await client.connect();
      started.push({ app, client, metrics: app.get(MetricsService) });
    }
    const [a, b] = started;

    expect(await send(a.client, [2])).toBe(2);
    expect(await send(b.client, [3])).toBe(3);
    expect(await send(b.client, [4])).toBe(4);

    await eventually(async () => {
      expect(await requests(a.metrics, SUM)).toBe(1);
      expect(await requests(b.metrics, SUM)).toBe(2);
    });
  });
});
