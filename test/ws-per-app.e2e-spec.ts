import 'reflect-metadata';
import type { AddressInfo } from 'node:net';
import type { INestApplication } from '@nestjs/common';
import {
  SubscribeMessage,
  WebSocketGateway,
  type OnGatewayConnection,
  type OnGatewayInit,
} from '@nestjs/websockets';
import { Test } from '@nestjs/testing';
import { WsAdapter } from '@nestjs/platform-ws';
import WebSocket from 'ws';
import { Counted, MetricsModule } from '../lib/index.js';
import { WsFixtureModule } from './fixtures/ws-fixture.module.js';
import { eventually, scrape, sum } from './helpers/metrics-text.js';

async function create(): Promise<INestApplication> {
  const moduleRef = await Test.createTestingModule({
    imports: [
      MetricsModule.forRoot({ defaultMetrics: false }),
      WsFixtureModule,
    ],
  }).compile();
  const app = moduleRef.createNestApplication({ logger: false });
  app.useWebSocketAdapter(new WsAdapter(app));
  return app;
}

/** Sends `count` echo frames and waits for their replies. */
async function echo(app: INestApplication, count: number): Promise<void> {
  const { port } = app.getHttpServer().address() as AddressInfo;
  const socket = new WebSocket(`ws://127.0.0.1:${port}`);
  await new Promise((resolve, reject) => {
    socket.once('open', resolve);
    socket.once('error', reject);
  });
  let replies = 0;
  socket.on('message', () => replies++);
  for (let i = 0; i < count; i++)
    socket.send(JSON.stringify({ event: 'echo', data: i }));
  await eventually(() => expect(replies).toBe(count));
  await new Promise<void>((resolve) => {
    socket.once('close', () => resolve());
    socket.close();
  });
}

describe('two gateway apps created before either starts (WsAdapter)', () => {
  let apps: INestApplication[] = [];

  afterEach(async () => {
    for (const app of apps) await app.close();
    apps = [];
  });

  it('each count exactly their own messages', async () => {
    apps = [await create(), await create()];
    // Started in the reverse order of creation.
    for (const app of [...apps].reverse()) await app.listen(0, '127.0.0.1');
    await echo(apps[0], 3);
    await echo(apps[1], 1);

    const ws = { transport: 'ws', route: 'echo', status: 'ok' };
    await eventually(async () => {
      expect(sum(await scrape(apps[0]), 'requests_total', ws)).toBe(3);
      expect(sum(await scrape(apps[1]), 'requests_total', ws)).toBe(1);
    });
    expect(sum(await scrape(apps[0]), 'ws_echoes_total', {})).toBe(3);
    expect(sum(await scrape(apps[1]), 'ws_echoes_total', {})).toBe(1);
  });
});

@WebSocketGateway()
class LifecycleGateway implements OnGatewayConnection, OnGatewayInit {
  connections = 0;

  @Counted('gateway_connections_total')
  handleConnection(): void {
    this.connections++;
  }

  @Counted('gateway_inits_total')
  afterInit(): void {}

  @SubscribeMessage('noop')
  noop(): void {}
}

describe('gateway lifecycle methods with @Counted', () => {
  let app: INestApplication | undefined;

  afterEach(async () => {
    await app?.close();
  });

  it('are counted when Nest calls them after start-up, and not before', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [MetricsModule.forRoot({ defaultMetrics: false })],
      providers: [LifecycleGateway],
    }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    app.useWebSocketAdapter(new WsAdapter(app));
    await app.listen(0, '127.0.0.1');
    const { port } = app.getHttpServer().address() as AddressInfo;
    for (let i = 0; i < 2; i++) {
      const socket = new WebSocket(`ws://127.0.0.1:${port}`);
      await new Promise((resolve) => socket.once('open', resolve));
      socket.close();
    }
    const gateway = app.get(LifecycleGateway);
    await eventually(() => expect(gateway.connections).toBe(2));
    const samples = await scrape(app);
    expect(sum(samples, 'gateway_connections_total', {})).toBe(2);
    // Nest calls it while it binds the gateway, before the metrics module binds the instance.
    expect(sum(samples, 'gateway_inits_total', {})).toBe(0);
  });
});
