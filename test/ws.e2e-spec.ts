import 'reflect-metadata';
import type { AddressInfo } from 'node:net';
import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { WsAdapter } from '@nestjs/platform-ws';
import WebSocket from 'ws';
import { MetricsModule } from '../lib/index.js';
import { Gate } from './fixtures/rpc-fixture.module.js';
import { WsFixtureModule } from './fixtures/ws-fixture.module.js';
import {
  eventually,
  find,
  scrape,
  sum,
  type Sample,
} from './helpers/metrics-text.js';

interface Frame {
  event: string;
  data: unknown;
}

/** A real `ws` client that collects the frames the gateway sends. */
class Client {
  readonly frames: Frame[] = [];

  private constructor(readonly socket: WebSocket) {
    socket.on('message', (raw) =>
      this.frames.push(JSON.parse(String(raw)) as Frame),
    );
  }

  static connect(url: string): Promise<Client> {
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(url);
      socket.once('open', () => resolve(new Client(socket)));
      socket.once('error', reject);
    });
  }

  send(event: string, data: unknown): void {
    this.socket.send(JSON.stringify({ event, data }));
  }

  async framesOf(event: string, count: number): Promise<Frame[]> {
    return eventually(() => {
      const frames = this.frames.filter((f) => f.event === event);
      expect(frames).toHaveLength(count);
      return frames;
    });
  }

  close(): Promise<void> {
    if (this.socket.readyState === WebSocket.CLOSED) return Promise.resolve();
    return new Promise((resolve) => {
      this.socket.once('close', () => resolve());
      this.socket.close();
    });
  }
}

const ws = { transport: 'ws', method: 'message' };
const requests = (samples: Sample[], route: string, status: string) =>
  sum(samples, 'requests_total', { ...ws, route, status });
const errors = (samples: Sample[], route: string, errorType: string) =>
  sum(samples, 'errors_total', { ...ws, route, error_type: errorType });
const bytes = (
  samples: Sample[],
  family: 'request_bytes_total' | 'response_bytes_total',
  route: string,
) => sum(samples, family, { ...ws, route });
const inFlight = (samples: Sample[]) =>
  find(samples, 'concurrent_requests', { transport: 'ws' }).map((s) => s.value);
const json = (value: unknown) => JSON.stringify(value).length;

describe('WebSocket gateway handlers (WsAdapter)', () => {
  let app: INestApplication;
  let url: string;
  const clients: Client[] = [];

  beforeEach(async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [
        MetricsModule.forRoot({ defaultMetrics: false }),
        WsFixtureModule,
      ],
    }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    app.useWebSocketAdapter(new WsAdapter(app));
    await app.listen(0, '127.0.0.1');
    const { port } = app.getHttpServer().address() as AddressInfo;
    url = `ws://127.0.0.1:${port}`;
  });

  afterEach(async () => {
    for (const client of clients.splice(0)) await client.close();
    await app.close();
  });

  const connect = async () => {
    const client = await Client.connect(url);
    clients.push(client);
    return client;
  };

  it('counts every message once under its event name, with payload and reply sizes', async () => {
    expect(inFlight(await scrape(app))).toEqual([0]);
    const client = await connect();
    client.send('echo', { hello: 'world' });
    client.send('echo', 'hi');
    client.send('add', { a: 2, b: 3 });
    client.send('ticks', 3);
    client.send('silent', {});
    client.send('unknown-event', {});

    const echoes = await client.framesOf('echo', 2);
    expect(echoes.map((f) => f.data)).toEqual([{ hello: 'world' }, 'hi']);
    expect((await client.framesOf('sum', 1))[0].data).toBe(5);
    expect((await client.framesOf('tick', 3)).map((f) => f.data)).toEqual([
      1, 2, 3,
    ]);

    const samples = await eventually(async () => {
      const s = await scrape(app);
      expect(requests(s, 'silent', 'ok')).toBe(1);
      expect(requests(s, 'ticks', 'ok')).toBe(1);
      return s;
    });
    expect(requests(samples, 'echo', 'ok')).toBe(2);
    // @Counted on a gateway handler: its method-level interceptor.
    expect(
      sum(samples, 'ws_echoes_total', {
        class: 'EchoGateway',
        method: 'echo',
        result: 'success',
      }),
    ).toBe(2);
    expect(bytes(samples, 'request_bytes_total', 'echo')).toBe(
      json({ hello: 'world' }) + json('hi'),
    );
    expect(bytes(samples, 'response_bytes_total', 'echo')).toBe(
      json({ event: 'echo', data: { hello: 'world' } }) +
        json({ event: 'echo', data: 'hi' }),
    );
    expect(requests(samples, 'add', 'ok')).toBe(1);
    expect(bytes(samples, 'response_bytes_total', 'ticks')).toBe(
      3 * json({ event: 'tick', data: 1 }),
    );
    expect(bytes(samples, 'response_bytes_total', 'silent')).toBe(0);
    // No handler: Nest drops the frame, and so does the recorder.
    expect(sum(samples, 'requests_total', { route: 'unknown-event' })).toBe(0);
    expect(sum(samples, 'requests_total', { transport: 'ws' })).toBe(5);
    expect(sum(samples, 'errors_total', { transport: 'ws' })).toBe(0);
    // The upgrade request is not an HTTP request served by the app.
    expect(sum(samples, 'requests_total', { transport: 'http' })).toBe(0);
    expect(inFlight(samples)).toEqual([0]);
  });

  it('counts failed messages with their error_type', async () => {
    const client = await connect();
    client.send('add', { a: -1, b: 'x' });
    client.send('refuse', {});
    client.send('boom', {});
    client.send('echo', 'still alive');
    await client.framesOf('echo', 1);

    const samples = await eventually(async () => {
      const s = await scrape(app);
      expect(sum(s, 'requests_total', { transport: 'ws' })).toBe(4);
      return s;
    });
    expect(requests(samples, 'add', 'error')).toBe(1);
    expect(errors(samples, 'add', 'validation')).toBe(1);
    expect(errors(samples, 'refuse', 'client_error')).toBe(1);
    expect(errors(samples, 'boom', 'internal')).toBe(1);
    expect(requests(samples, 'echo', 'ok')).toBe(1);
    expect(sum(samples, 'errors_total', { transport: 'ws' })).toBe(3);
    expect(inFlight(samples)).toEqual([0]);
  });

  it('shows a message in flight, and counts it as aborted when its client goes away', async () => {
    const gate = app.get(Gate);
    gate.close();
    const patient = await connect();
    const leaving = await connect();
    patient.send('held', {});
    leaving.send('held', {});
    await eventually(() => expect(gate.entered).toBe(2));
    expect(inFlight(await scrape(app))).toEqual([2]);

    await leaving.close();
    await eventually(async () =>
      expect(inFlight(await scrape(app))).toEqual([1]),
    );
    gate.open();
    await patient.framesOf('held', 1);

    const samples = await eventually(async () => {
      const s = await scrape(app);
      expect(inFlight(s)).toEqual([0]);
      return s;
    });
    expect(requests(samples, 'held', 'ok')).toBe(1);
    expect(requests(samples, 'held', 'error')).toBe(1);
    expect(errors(samples, 'held', 'aborted')).toBe(1);
    expect(leaving.frames).toEqual([]);
  });
});
