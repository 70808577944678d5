import 'reflect-metadata';
import type { ChildProcess } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import {
  Controller,
  type DynamicModule,
  Injectable,
  Logger,
  Module,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import {
  ClientProxyFactory,
  MessagePattern,
  Payload,
  Transport,
  type ClientProxy,
} from '@nestjs/microservices';
import {
  MessageBody,
  SubscribeMessage,
  WebSocketGateway,
} from '@nestjs/websockets';
import { WsAdapter } from '@nestjs/platform-ws';
import { BullModule, Processor, WorkerHost } from '@nestjs/bullmq';
import { Queue, type Job } from 'bullmq';
import { firstValueFrom } from 'rxjs';
import WebSocket from 'ws';
import { loadDist, type Library } from './library.js';
import { nextMessage, SERVER_CORE, startNode } from './processes.js';
import { fixed, max, median, min } from './stats.js';

// Message handlers of each transport with and without MetricsModule: `npm run bench -- --only
// transports`. Each server is a child process (`node transports.js --server <transport>
// <variant> <name>`) answering over IPC; the runner drives it as a real client would and reads
// the server's CPU time around each window of messages.

const TRANSPORTS = ['rpc', 'ws', 'queue'] as const;
type TransportName = (typeof TRANSPORTS)[number];
const VARIANTS = ['bare', 'metrics'] as const;
type VariantName = (typeof VARIANTS)[number];

const REDIS = { host: '127.0.0.1', port: 6379 };
const PAYLOAD = { id: 42, items: ['pen', 'ink'], note: 'a small message' };

/** What a server child says over IPC. */
type ChildMessage =
  | { type: 'ready'; port: number }
  | { type: 'usage'; id: number; cpuMicros: number; handled: number }
  | { type: 'counted'; id: number; requests: number | undefined };
type ChildCommand =
  | { type: 'usage'; id: number }
  | { type: 'counted'; id: number }
  | { type: 'exit' };

// --- server side ---------------------------------------------------------------------------

let handled = 0;

function rpcModule(pattern: string, imports: DynamicModule[]): object {
  @Controller()
  class EchoController {
    @MessagePattern(pattern)
    echo(@Payload() data: unknown): unknown {
      handled++;
      return data;
    }
  }
  @Module({ imports, controllers: [EchoController] })
  class RpcModule {}
  return RpcModule;
}

function wsModule(imports: DynamicModule[]): object {
  @WebSocketGateway()
  class EchoGateway {
    @SubscribeMessage('echo')
    echo(@MessageBody() data: unknown): { event: string; data: unknown } {
      handled++;
      return { event: 'echo', data };
    }
  }
  @Module({ imports, providers: [EchoGateway] })
  class WsModule {}
  return WsModule;
}

function queueModule(queueName: string, imports: DynamicModule[]): object {
  @Processor(queueName, { concurrency: 8 })
  @Injectable()
  class EchoProcessor extends WorkerHost {
    process(job: Job): Promise<unknown> {
      handled++;
      return Promise.resolve(job.data);
    }
  }
  @Module({
    imports: [
      ...imports,
      BullModule.forRoot({ connection: REDIS }),
      BullModule.registerQueue({ name: queueName }),
    ],
    providers: [EchoProcessor],
  })
  class QueueModule {}
  return QueueModule;
}

/** Sums `requests_total` of one transport in an exposition text. */
function requestsOf(text: string, transport: TransportName): number {
  let total = 0;
  for (const line of text.split('\n')) {
    if (
      line.startsWith('requests_total{') &&
      line.includes(`transport="${transport}"`)
    )
      total += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return total;
}

async function serve(
  transport: TransportName,
  variant: VariantName,
  name: string,
): Promise<void> {
  const library = await loadDist<Library>('index.js');
  const imports =
    variant === 'metrics'
      ? [library.MetricsModule.forRoot({ defaultMetrics: false })]
      : [];
  let port = 0;
  let close: () => Promise<void>;
  let exposition: (() => Promise<string>) | undefined;
  if (transport === 'rpc') {
    const app = await NestFactory.createMicroservice(rpcModule(name, imports), {
      transport: Transport.REDIS,
      options: REDIS,
      logger: false,
    });
    await app.listen();
    close = () => app.close();
    if (variant === 'metrics')
      exposition = () => app.get(library.MetricsService).metrics();
  } else if (transport === 'ws') {
    const app = await NestFactory.create(wsModule(imports), { logger: false });
    app.useWebSocketAdapter(new WsAdapter(app));
    await app.listen(0, '127.0.0.1');
    port = (app.getHttpServer().address() as AddressInfo).port;
    close = () => app.close();
    if (variant === 'metrics')
      exposition = () => app.get(library.MetricsService).metrics();
  } else {
    const app = await NestFactory.createApplicationContext(
      queueModule(name, imports),
      { logger: false },
    );
    await app.init();
    close = () => app.close();
    if (variant === 'metrics')
      exposition = () => app.get(library.MetricsService).metrics();
  }
  process.on('message', (command: ChildCommand) => {
    void (async () => {
      if (command.type === 'usage') {
        const { user, system } = process.cpuUsage();
        process.send!({
          type: 'usage',
          id: command.id,
          cpuMicros: user + system,
          handled,
        } satisfies ChildMessage);
      } else if (command.type === 'counted') {
        process.send!({
          type: 'counted',
          id: command.id,
          requests:
            exposition === undefined
              ? undefined
              : requestsOf(await exposition(), transport),
        } satisfies ChildMessage);
      } else {
        await close();
        process.exit(0);
      }
    })();
  });
  process.send!({ type: 'ready', port } satisfies ChildMessage);
}

// --- runner side ---------------------------------------------------------------------------

let nextId = 1;

/** The first IPC answer of `child` that `accept` takes. */
function answer<T extends ChildMessage>(
  child: ChildProcess,
  accept: (message: ChildMessage) => message is T,
  what: string,
): Promise<T> {
  return nextMessage(
    child,
    (message): message is T => accept(message as ChildMessage),
    what,
    60_000,
  );
}

/** One server child and the client that drives it. */
class TransportServer {
  private constructor(
    readonly transport: TransportName,
    readonly variant: VariantName,
    private readonly child: ChildProcess,
    private readonly name: string,
    private readonly port: number,
  ) {}

  private rpcClient: ClientProxy | undefined;
  private sockets: WebSocket[] = [];
  private queue: Queue | undefined;
  /** Replies (rpc, ws) or completions the client saw, over every window. */
  sent = 0;

  static async start(
    transport: TransportName,
    variant: VariantName,
  ): Promise<TransportServer> {
    const name = `nm-bench-${transport}-${variant}-${process.pid}-${Date.now().toString(36)}`;
    const child = startNode(
      'transports.js',
      ['--server', transport, variant, name],
      SERVER_CORE,
    );
    const ready = await answer(
      child,
      (m): m is Extract<ChildMessage, { type: 'ready' }> => m.type === 'ready',
      `${transport} ${variant}`,
    );
    const server = new TransportServer(
      transport,
      variant,
      child,
      name,
      ready.port,
    );
    await server.connect();
    return server;
  }

  private async connect(): Promise<void> {
    if (this.transport === 'rpc') {
      this.rpcClient = ClientProxyFactory.create({
        transport: Transport.REDIS,
        options: REDIS,
      });
      await this.rpcClient.connect();
    } else if (this.transport === 'ws') {
      this.sockets = await Promise.all(
        Array.from(
          { length: 8 },
          () =>
            new Promise<WebSocket>((resolve, reject) => {
              const socket = new WebSocket(`ws://127.0.0.1:${this.port}`);
              socket.once('open', () => resolve(socket));
              socket.once('error', reject);
            }),
        ),
      );
    } else {
      this.queue = new Queue(this.name, { connection: REDIS });
    }
  }

  async usage(): Promise<{ cpuMicros: number; handled: number }> {
    const id = nextId++;
    this.child.send({ type: 'usage', id } satisfies ChildCommand);
    return answer(
      this.child,
      (m): m is Extract<ChildMessage, { type: 'usage' }> =>
        m.type === 'usage' && m.id === id,
      `${this.transport} ${this.variant}`,
    );
  }

  async counted(): Promise<number | undefined> {
    const id = nextId++;
    this.child.send({ type: 'counted', id } satisfies ChildCommand);
    return (
      await answer(
        this.child,
        (m): m is Extract<ChildMessage, { type: 'counted' }> =>
          m.type === 'counted' && m.id === id,
        `${this.transport} ${this.variant}`,
      )
    ).requests;
  }

  /** Sends `count` messages (jobs) and resolves once each was answered (processed). */
  async drive(count: number): Promise<void> {
    if (this.transport === 'rpc') {
      let left = count;
      await Promise.all(
        Array.from({ length: 16 }, async () => {
          while (left > 0) {
            left--;
            await firstValueFrom(this.rpcClient!.send(this.name, PAYLOAD));
            this.sent++;
          }
        }),
      );
    } else if (this.transport === 'ws') {
      let left = count;
      const frame = JSON.stringify({ event: 'echo', data: PAYLOAD });
      await Promise.all(
        this.sockets.map(async (socket) => {
          while (left > 0) {
            left--;
            await new Promise<void>((resolve) => {
              socket.once('message', () => resolve());
              socket.send(frame);
            });
            this.sent++;
          }
        }),
      );
    } else {
      const { handled: before } = await this.usage();
      for (let added = 0; added < count; added += 500) {
        await this.queue!.addBulk(
          Array.from({ length: Math.min(500, count - added) }, () => ({
            name: 'echo',
            data: PAYLOAD,
            opts: { removeOnComplete: true, removeOnFail: true },
          })),
        );
      }
      for (;;) {
        const { handled } = await this.usage();
        if (handled - before >= count) break;
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      this.sent += count;
    }
  }

  async stop(): Promise<void> {
    await this.rpcClient?.close();
    for (const socket of this.sockets) socket.close();
    if (this.queue !== undefined) {
      await this.queue.obliterate({ force: true });
      await this.queue.close();
    }
    if (this.child.exitCode === null) {
      const exited = new Promise((resolve) => this.child.once('exit', resolve));
      this.child.send({ type: 'exit' } satisfies ChildCommand);
      await exited;
    }
  }
}

interface Window {
  cpuMicrosPerMessage: number;
  messagesPerSecond: number;
}

async function measureWindow(
  server: TransportServer,
  count: number,
): Promise<Window> {
  const before = await server.usage();
  const started = performance.now();
  await server.drive(count);
  const seconds = (performance.now() - started) / 1000;
  const after = await server.usage();
  const messages = after.handled - before.handled;
  return {
    cpuMicrosPerMessage: (after.cpuMicros - before.cpuMicros) / messages,
    messagesPerSecond: messages / seconds,
  };
}

const LABELS: Record<TransportName, string> = {
  rpc: 'rpc, Redis request–reply (@MessagePattern)',
  ws: 'ws, gateway on @nestjs/platform-ws (@SubscribeMessage)',
  queue: 'BullMQ job (@Processor, concurrency 8)',
};

/**
 * Runs the transports part: for each transport, the same handler without and with
 * `MetricsModule.forRoot()`, paired rounds in alternating order. Returns markdown.
 */
export async function runTransportsBench(quick: boolean): Promise<string> {
  const rounds = quick ? 3 : 5;
  const messages: Record<TransportName, number> = quick
    ? { rpc: 1_200, ws: 3_000, queue: 500 }
    : { rpc: 10_000, ws: 20_000, queue: 4_000 };
  const rows: string[] = [];
  const checks: string[] = [];
  // The rpc client logs each connection; the table is what this part prints.
  Logger.overrideLogger(['error', 'warn']);
  for (const transport of TRANSPORTS) {
    const servers = await Promise.all(
      VARIANTS.map((variant) => TransportServer.start(transport, variant)),
    );
    try {
      // Until the JIT settled: shorter warm-ups left the first round twice as slow.
      for (const server of servers)
        await measureWindow(server, messages[transport]);
      const windows = new Map<VariantName, Window[]>(
        VARIANTS.map((v) => [v, []]),
      );
      const added: number[] = [];
      const ratios: number[] = [];
      for (let round = 0; round < rounds; round++) {
        const order = round % 2 === 0 ? servers : [...servers].reverse();
        const paired = new Map<VariantName, Window>();
        for (const server of order) {
          const measured = await measureWindow(server, messages[transport]);
          paired.set(server.variant, measured);
          windows.get(server.variant)!.push(measured);
          process.stderr.write(
            `  round ${round + 1}/${rounds} ${transport.padEnd(5)} ${server.variant.padEnd(7)} ${measured.messagesPerSecond.toFixed(0).padStart(6)} msg/s ${measured.cpuMicrosPerMessage.toFixed(1).padStart(7)} µs CPU/msg\n`,
          );
        }
        const bare = paired.get('bare')!.cpuMicrosPerMessage;
        const metrics = paired.get('metrics')!.cpuMicrosPerMessage;
        added.push(metrics - bare);
        ratios.push(metrics / bare);
      }
      for (const variant of VARIANTS) {
        const cpu = windows.get(variant)!.map((w) => w.cpuMicrosPerMessage);
        const rate = windows.get(variant)!.map((w) => w.messagesPerSecond);
        const vs =
          variant === 'bare'
            ? '| | '
            : `| ${fixed(median(added), 1)} | ${fixed(median(ratios), 2)}× `;
        rows.push(
          `| ${LABELS[transport]} | ${variant === 'bare' ? 'without' : 'MetricsModule.forRoot()'} | ${fixed(min(cpu), 1)} | ${fixed(median(cpu), 1)} | ${fixed(max(cpu), 1)} ${vs}| ${fixed(median(rate), 0)} |`,
        );
      }
      const measured = servers.find((s) => s.variant === 'metrics')!;
      const counted = await measured.counted();
      const { handled } = await measured.usage();
      if (counted !== handled || handled < measured.sent) {
        throw new Error(
          `transports: ${transport} requests_total is ${counted}; the handler ran ${handled} times for ${measured.sent} sent`,
        );
      }
      checks.push(`${transport} ${counted.toLocaleString('en')}`);
    } finally {
      for (const server of servers) await server.stop();
    }
  }
  Logger.overrideLogger(['log', 'error', 'warn', 'debug', 'verbose', 'fatal']);
  return [
    `Transports: CPU µs of the server process per message or job (process.cpuUsage over a window ÷ messages handled), ${rounds} paired rounds in alternating order; added and ratio are medians of the paired rounds (Node ${process.version}). Each window sends ${messages.rpc.toLocaleString('en')} rpc requests (16 in flight), ${messages.ws.toLocaleString('en')} ws messages (8 clients, one in flight each) or ${messages.queue.toLocaleString('en')} jobs. requests_total equalled the messages handled (${checks.join(', ')}).`,
    '',
    '| transport | server | min (µs/msg) | median (µs/msg) | max (µs/msg) | added (µs/msg) | ratio | messages/s (median) |',
    '| --------- | ------ | -----------: | --------------: | -----------: | -------------: | ----: | ------------------: |',
    ...rows,
  ].join('\n');
}

const serverIndex = process.argv.indexOf('--server');
if (serverIndex !== -1) {
  const [transport, variant, name] = process.argv.slice(serverIndex + 1) as [
    TransportName,
    VariantName,
    string,
  ];
  await serve(transport, variant, name);
}
