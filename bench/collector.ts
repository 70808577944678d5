import { Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { pathToFileURL } from 'node:url';
import { loadDist, type Library } from './library.js';
import { median } from './stats.js';

// ns per call of the collector API and of a @Timed method, with the module enabled and disabled,
// in one process: `node collector.js [--quick]`. Prints one JSON line on stdout.

export interface CollectorResult {
  cases: { name: string; enabledNs: number; disabledNs: number }[];
  iterations: number;
  repetitions: number;
}

/** Both apps' versions of one call, measured alternately so that neither gets a warmer machine. */
interface Case {
  name: string;
  run: (app: BenchApp, i: number) => unknown;
}

interface BenchApp {
  metrics: InstanceType<Library['MetricsService']>;
  work: { timed(n: number): number; plain(n: number): number };
}

const QUEUES = ['mail', 'sms', 'push', 'web'];

const CASES: Case[] = [
  { name: 'plain method call (reference)', run: (a, i) => a.work.plain(i) },
  { name: '@Timed method call', run: (a, i) => a.work.timed(i) },
  { name: 'increment(name)', run: (a) => a.metrics.increment('jobs.done') },
  {
    name: 'increment(name, 1, { queue })',
    run: (a, i) =>
      a.metrics.increment('jobs.sent', 1, { queue: QUEUES[i & 3] }),
  },
  {
    name: 'timing(name, seconds)',
    run: (a, i) => a.metrics.timing('render', (i & 1023) / 4096),
  },
  {
    name: 'gauge(name, value)',
    run: (a, i) => a.metrics.gauge('queue.depth', i & 63),
  },
  {
    name: 'timer(name)() (start and end)',
    run: (a) => a.metrics.timer('export')(),
  },
];

async function startApp(enabled: boolean): Promise<BenchApp> {
  const { MetricsModule, MetricsService, Timed } =
    await loadDist<Library>('index.js');
  @Injectable()
  class Work {
    @Timed('work_seconds')
    timed(n: number): number {
      return n + 1;
    }

    plain(n: number): number {
      return n + 1;
    }
  }
  @Module({
    imports: [MetricsModule.forRoot({ enabled, defaultMetrics: false })],
    providers: [Work],
  })
  class BenchModule {}
  const context = await NestFactory.createApplicationContext(BenchModule, {
    logger: false,
  });
  return { metrics: context.get(MetricsService), work: context.get(Work) };
}

async function measure(quick: boolean): Promise<CollectorResult> {
  const enabled = await startApp(true);
  const disabled = await startApp(false);
  const iterations = quick ? 100_000 : 1_000_000;
  const repetitions = quick ? 5 : 11;
  let sink = 0;
  const loop = (app: BenchApp, run: Case['run'], n: number): number => {
    const start = process.hrtime.bigint();
    for (let i = 0; i < n; i++) if (run(app, i) === -1) sink++;
    return Number(process.hrtime.bigint() - start) / n;
  };
  const cases: CollectorResult['cases'] = [];
  for (const { name, run } of CASES) {
    loop(enabled, run, iterations); // warm-up: let the JIT settle
    loop(disabled, run, iterations);
    const on: number[] = [];
    const off: number[] = [];
    for (let r = 0; r < repetitions; r++) {
      on.push(loop(enabled, run, iterations));
      off.push(loop(disabled, run, iterations));
    }
    cases.push({ name, enabledNs: median(on), disabledNs: median(off) });
  }
  if (sink < 0) process.stderr.write('unreachable\n');
  return { cases, iterations, repetitions };
}

/** The result as a markdown table, as `npm run bench` prints it. */
export function collectorTable(result: CollectorResult): string {
  const rows = result.cases.map(
    (c) =>
      `| ${c.name} | ${c.enabledNs.toFixed(1)} | ${c.disabledNs.toFixed(1)} |`,
  );
  return [
    `## Collector API and @Timed, ns per call`,
    '',
    `Median of ${result.repetitions} loops of ${result.iterations.toLocaleString('en-US')} calls each, the enabled and the disabled app (\`enabled: false\`) alternating in one process.`,
    '',
    '| call | enabled ns | disabled ns |',
    '| --- | ---: | ---: |',
    ...rows,
  ].join('\n');
}

if (
  process.argv[1] &&
  import.meta.url === pathToFileURL(process.argv[1]).href
) {
  const result = await measure(process.argv.includes('--quick'));
  process.stdout.write(`${JSON.stringify(result)}\n`);
  // The apps hold no handle that keeps the process alive; exit at once all the same.
  process.exit(0);
}
