import 'reflect-metadata';
import { execFile } from 'node:child_process';
import { Agent, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { Controller, Get, Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { Counter } from 'prom-client';
import { loadDist, type Library } from './library.js';
import { median } from './stats.js';

// The cost of the handler context (`handlerLabels`), run in a child of the runner:
// `node handler-context.js [--quick]`. Prints one JSON line on stdout.

export interface HandlerContextResult {
  /** CPU µs per request (server and client in one process), median over rounds, by case. */
  cases: { name: string; cpuMicrosPerRequest: number }[];
  /** ns per `inc()` of a counter, median over repetitions, by case. */
  increments: { name: string; nsPerCall: number }[];
  requests: number;
  rounds: number;
}

const quick = process.argv.includes('--quick');
type Service = InstanceType<Library['MetricsService']>;

/** The four apps: the same route; what differs is which metric exists and what the handler does. */
type Case = 'off' | 'on, no observation' | 'on, plain counter' | 'on, labelled';
const CASES: readonly Case[] = [
  'off',
  'on, no observation',
  'on, plain counter',
  'on, labelled',
];

async function startApp(
  { MetricsModule, MetricsService }: Library,
  which: Case,
): Promise<{ port: number; close(): Promise<void> }> {
  @Injectable()
  class Counters {
    readonly plain: Counter<string>;
    readonly labelled: Counter<string> | undefined;
    constructor(metrics: Service) {
      this.plain = metrics.counter('plain_total');
      this.labelled =
        which === 'off'
          ? undefined
          : metrics.counter('labelled_total', { handlerLabels: true });
    }
  }
  Reflect.defineMetadata('design:paramtypes', [MetricsService], Counters);

  @Controller()
  class ItemsController {
    constructor(private readonly counters: Counters) {}

    @Get('items/:id')
    item(): { ok: boolean } {
      if (which === 'on, plain counter') this.counters.plain.inc();
      if (which === 'on, labelled') this.counters.labelled!.inc();
      return { ok: true };
    }
  }
  Reflect.defineMetadata('design:paramtypes', [Counters], ItemsController);

  @Module({
    imports: [MetricsModule.forRoot({ defaultMetrics: false })],
    controllers: [ItemsController],
    providers: [Counters],
  })
  class AppModule {}

  const app = await NestFactory.create(AppModule, { logger: false });
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as AddressInfo;
  return { port, close: () => app.close() };
}

function get(agent: Agent, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    request({ agent, host: '127.0.0.1', port, path: '/items/42' }, (res) => {
      res.resume();
      res.on('end', resolve);
      res.on('error', reject);
    })
      .on('error', reject)
      .end();
  });
}

/** CPU µs per request over `count` requests, 8 in flight over keep-alive connections. */
async function cpuPerRequest(port: number, count: number): Promise<number> {
  const agent = new Agent({ keepAlive: true, maxSockets: 8 });
  const before = process.cpuUsage();
  let next = 0;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (next < count) {
        next++;
        await get(agent, port);
      }
    }),
  );
  const used = process.cpuUsage(before);
  agent.destroy();
  return (used.user + used.system) / count;
}

/** One case in a process of its own: ALS, once entered, costs every app of a process alike. */
async function oneCase(library: Library, which: Case): Promise<number> {
  const app = await startApp(library, which);
  try {
    await cpuPerRequest(app.port, quick ? 500 : 2_000);
    return await cpuPerRequest(app.port, quick ? 2_000 : 20_000);
  } finally {
    await app.close();
  }
}

function inChild(which: Case): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      process.execPath,
      [
        fileURLToPath(import.meta.url),
        '--case',
        which,
        ...(quick ? ['--quick'] : []),
      ],
      (error, stdout) => {
        if (error) reject(error);
        else resolve(Number(stdout.trim().split('\n').pop()));
      },
    );
    child.stdin?.end();
  });
}

async function requests(): Promise<HandlerContextResult['cases']> {
  const rounds = quick ? 1 : 7;
  const samples = new Map<Case, number[]>(CASES.map((c) => [c, []]));
  // Rounds alternate the cases, so drift of the machine hits all alike.
  for (let round = 0; round < rounds; round++)
    for (const which of CASES) samples.get(which)!.push(await inChild(which));
  return CASES.map((name) => ({
    name,
    cpuMicrosPerRequest: median(samples.get(name)!),
  }));
}

async function increments({
  MetricsService,
}: Library): Promise<HandlerContextResult['increments']> {
  const { Registry } = await import('prom-client');
  const { resolveOptions } =
    await loadDist<typeof import('../lib/metrics.options.js')>(
      'metrics.options.js',
    );
  const { runInHandlerContext } = await loadDist<
    typeof import('../lib/context/handler-context.js')
  >('context/handler-context.js');
  const service = new MetricsService(
    new Registry(),
    resolveOptions({ defaultMetrics: false }),
  );
  const plain = service.counter('plain_total');
  const twoLabels = service.counter('two_labels_total', {
    labelNames: ['transport', 'route'],
  });
  const labelled = service.counter('labelled_total', { handlerLabels: true });
  const iterations = quick ? 100_000 : 1_000_000;
  const repetitions = quick ? 3 : 9;
  const time = (call: () => void): number => {
    const runs: number[] = [];
    for (let r = 0; r < repetitions; r++) {
      const started = process.hrtime.bigint();
      for (let i = 0; i < iterations; i++) call();
      runs.push(Number(process.hrtime.bigint() - started) / iterations);
    }
    return median(runs);
  };
  const context = { transport: 'http', route: '/items/:id' };
  return [
    { name: 'counter without labels', nsPerCall: time(() => plain.inc()) },
    {
      name: 'counter given transport and route',
      nsPerCall: time(() => twoLabels.inc(context)),
    },
    {
      name: 'handlerLabels, outside any handler',
      nsPerCall: time(() => labelled.inc()),
    },
    {
      name: 'handlerLabels, in a handler',
      nsPerCall: runInHandlerContext(context, () => time(() => labelled.inc())),
    },
  ];
}

const caseArgument = process.argv.indexOf('--case');
if (caseArgument !== -1) {
  const library = await loadDist<Library>('index.js');
  const which = process.argv[caseArgument + 1] as Case;
  process.stdout.write(`${await oneCase(library, which)}\n`);
} else if (process.argv[1]?.endsWith('handler-context.js')) {
  const library = await loadDist<Library>('index.js');
  const result: HandlerContextResult = {
    cases: await requests(),
    increments: await increments(library),
    requests: quick ? 2_000 : 20_000,
    rounds: quick ? 1 : 7,
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

/** The section of the bench report. */
export function handlerContextMarkdown(result: HandlerContextResult): string {
  const off = result.cases[0].cpuMicrosPerRequest;
  return [
    '## Handler context (`handlerLabels`)',
    '',
    `CPU per request of one process serving and sending ${result.requests} requests (8 in flight, keep-alive), a new process per case and round, median of ${result.rounds} rounds; the client's share is the same in every case.`,
    '',
    '| Case | CPU µs/request | vs off |',
    '| --- | ---: | ---: |',
    ...result.cases.map(
      (c) =>
        `| ${c.name} | ${c.cpuMicrosPerRequest.toFixed(1)} | ${(c.cpuMicrosPerRequest - off >= 0 ? '+' : '') + (c.cpuMicrosPerRequest - off).toFixed(1)} |`,
    ),
    '',
    '| `inc()` of | ns/call |',
    '| --- | ---: |',
    ...result.increments.map(
      (c) => `| ${c.name} | ${c.nsPerCall.toFixed(0)} |`,
    ),
  ].join('\n');
}
