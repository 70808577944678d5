import 'reflect-metadata';
import type { AddressInfo } from 'node:net';
import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { WsAdapter } from '@nestjs/platform-ws';
import WebSocket from 'ws';
import { MetricsModule } from '../lib/index.js';
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
