import 'reflect-metadata';
import type { AddressInfo } from 'node:net';
import { Module, type INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import {
  MessageBody,
  SubscribeMessage,
  WebSocketGateway,
  type OnGatewayConnection,
  type OnGatewayDisconnect,
} from '@nestjs/websockets';
import { WsAdapter } from '@nestjs/platform-ws';
import { IoAdapter } from '@nestjs/platform-socket.io';
import WebSocket from 'ws';
import { io, type Socket as IoClient } from 'socket.io-client';
import { MetricsModule } from '../lib/index.js';
import {
  eventually,
  scrape,
  sum,
  type Sample,
} from './helpers/metrics-text.js';
import { PausableProxy } from './helpers/pausable-proxy.js';

/** A gateway without connection hooks of its own. */
@WebSocketGateway({ path: '/plain' })
class PlainGateway {
  @SubscribeMessage('echo')
  echo(@MessageBody() data: unknown) {
    return { event: 'echo', data };
  }
}

/** A gateway with its own hooks, which must still run, with Nest's arguments. */
@WebSocketGateway({ path: '/hooked' })
class HookedGateway implements OnGatewayConnection, OnGatewayDisconnect {
  readonly connected: unknown[] = [];
  readonly disconnected: unknown[] = [];

  handleConnection(client: unknown, request: { url?: string }) {
    this.connected.push([client, request.url]);
  }

  handleDisconnect(client: unknown) {
    this.disconnected.push(client);
  }
}

@Module({ providers: [PlainGateway, HookedGateway] })
class WsGateways {}

/** Socket.IO: clients that stop answering are dropped after pingInterval + pingTimeout. */
@WebSocketGateway({ namespace: '/chat', pingInterval: 100, pingTimeout: 100 })
class ChatGateway implements OnGatewayConnection, OnGatewayDisconnect {
  connections = 0;
  readonly reasons: string[] = [];

  handleConnection() {
    this.connections++;
  }

  handleDisconnect(_client: unknown, reason: string) {
    this.reasons.push(reason);
  }

  @SubscribeMessage('echo')
  echo(@MessageBody() data: unknown) {
    return data;
  }
}

@Module({ providers: [ChatGateway] })
class IoGateways {}

const connections = (samples: Sample[], gateway: string) => ({
  current: sum(samples, 'ws_connections', { gateway }),
  opened: sum(samples, 'ws_connections_total', { gateway }),
});

async function start(
  gateways: object,
  adapter: 'ws' | 'socket.io',
): Promise<{ app: INestApplication; port: number }> {
  const moduleRef = await Test.createTestingModule({
    imports: [
      MetricsModule.forRoot({ defaultMetrics: false }),
      gateways as never,
    ],
  }).compile();
  const app = moduleRef.createNestApplication({ logger: false });
  app.useWebSocketAdapter(
    adapter === 'ws' ? new WsAdapter(app) : new IoAdapter(app),
  );
  await app.listen(0, '127.0.0.1');
  return { app, port: (app.getHttpServer().address() as AddressInfo).port };
}

function wsClient(port: number, path: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(`ws://127.0.0.1:${port}${path}`);
    socket.once('open', () => resolve(socket));
    socket.once('error', reject);
  });
}

function closed(socket: WebSocket, how: 'close' | 'terminate'): Promise<void> {
  return new Promise((resolve) => {
    socket.once('close', () => resolve());
    socket[how]();
  });
}

describe('WebSocket connections (@nestjs/platform-ws)', () => {
  let app: INestApplication;
  let port: number;
  const proxies: PausableProxy[] = [];
  const sockets: WebSocket[] = [];

  beforeEach(async () => {
    ({ app, port } = await start(WsGateways, 'ws'));
  });

  afterEach(async () => {
    for (const socket of sockets.splice(0)) socket.terminate();
    for (const proxy of proxies.splice(0)) await proxy.close();
    await app.close();
  });

  it('counts connected and opened clients per gateway, back to 0 however they leave', async () => {
    expect(connections(await scrape(app), 'PlainGateway')).toEqual({
      current: 0,
      opened: 0,
    });
    const proxy = await PausableProxy.start(port);
    proxies.push(proxy);
    const polite = await wsClient(port, '/plain');
    const abrupt = await wsClient(port, '/plain');
    // Through a proxy that drops the TCP connection: no close frame ever reaches the server.
    const dropped = await wsClient(proxy.port, '/plain');
    const hooked = await wsClient(port, '/hooked');
    sockets.push(polite, abrupt, dropped, hooked);
    await eventually(async () =>
      expect(connections(await scrape(app), 'PlainGateway')).toEqual({
        current: 3,
        opened: 3,
      }),
    );
    expect(connections(await scrape(app), 'HookedGateway')).toEqual({
      current: 1,
      opened: 1,
    });
    // Messages are measured as before.
    polite.send(JSON.stringify({ event: 'echo', data: 'hi' }));
    await eventually(async () =>
      expect(
        sum(await scrape(app), 'requests_total', {
          transport: 'ws',
          route: 'echo',
          status: 'ok',
        }),
      ).toBe(1),
    );

    await closed(polite, 'close');
    await closed(abrupt, 'terminate');
    await proxy.close();
    await closed(hooked, 'close');
    await eventually(async () => {
      const samples = await scrape(app);
      expect(connections(samples, 'PlainGateway')).toEqual({
        current: 0,
        opened: 3,
      });
      expect(connections(samples, 'HookedGateway')).toEqual({
        current: 0,
        opened: 1,
      });
    });
    const gateway = app.get(HookedGateway);
    expect(gateway.connected).toHaveLength(1);
    expect((gateway.connected[0] as unknown[])[1]).toBe('/hooked');
    expect(gateway.disconnected).toEqual([
      (gateway.connected[0] as unknown[])[0],
    ]);

    const again = await Promise.all([
      wsClient(port, '/plain'),
      wsClient(port, '/plain'),
    ]);
    sockets.push(...again);
    await eventually(async () =>
      expect(connections(await scrape(app), 'PlainGateway')).toEqual({
        current: 2,
        opened: 5,
      }),
    );
  });
});

describe('WebSocket connections of two apps in one process', () => {
  it('are counted by the app the clients connected to', async () => {
    const first = await start(WsGateways, 'ws');
    const second = await start(WsGateways, 'ws');
    const sockets = await Promise.all([
      wsClient(first.port, '/plain'),
      wsClient(first.port, '/plain'),
      wsClient(second.port, '/plain'),
    ]);
    try {
      await eventually(async () => {
        expect(connections(await scrape(first.app), 'PlainGateway')).toEqual({
          current: 2,
          opened: 2,
        });
        expect(connections(await scrape(second.app), 'PlainGateway')).toEqual({
          current: 1,
          opened: 1,
        });
      });
    } finally {
      for (const socket of sockets) socket.terminate();
      await first.app.close();
      await second.app.close();
    }
  });
});

describe('WebSocket connections (@nestjs/platform-socket.io)', () => {
  let app: INestApplication;
  let port: number;
  const clients: IoClient[] = [];
  const proxies: PausableProxy[] = [];

  beforeEach(async () => {
    ({ app, port } = await start(IoGateways, 'socket.io'));
  });

  afterEach(async () => {
    for (const client of clients.splice(0)) client.disconnect();
    for (const proxy of proxies.splice(0)) await proxy.close();
    await app.close();
  });

  function ioClient(toPort: number): Promise<IoClient> {
    const client = io(`http://127.0.0.1:${toPort}/chat`, {
      transports: ['websocket'],
      reconnection: false,
      forceNew: true,
    });
    clients.push(client);
    return new Promise((resolve, reject) => {
      client.once('connect', () => resolve(client));
      client.once('connect_error', reject);
    });
  }

  it('counts clients, back to 0 when they disconnect or stop answering pings', async () => {
    const proxy = await PausableProxy.start(port);
    proxies.push(proxy);
    const leaving = await ioClient(port);
    const staying = await ioClient(port);
    const silent = await ioClient(proxy.port);
    await eventually(async () =>
      expect(connections(await scrape(app), 'ChatGateway')).toEqual({
        current: 3,
        opened: 3,
      }),
    );
    expect(app.get(ChatGateway).connections).toBe(3);
    expect(await staying.emitWithAck('echo', 'hi')).toBe('hi');

    leaving.disconnect();
    // The silent client's connection stays open, but nothing gets through: ping timeout.
    proxy.pause();
    await eventually(async () =>
      expect(connections(await scrape(app), 'ChatGateway')).toEqual({
        current: 1,
        opened: 3,
      }),
    );
    expect([...app.get(ChatGateway).reasons].sort()).toEqual([
      'client namespace disconnect',
      'ping timeout',
    ]);
    silent.disconnect();

    staying.disconnect();
    await eventually(async () =>
      expect(connections(await scrape(app), 'ChatGateway')).toEqual({
        current: 0,
        opened: 3,
      }),
    );
    expect(app.get(ChatGateway).reasons).toHaveLength(3);
  });
});
