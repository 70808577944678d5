import 'reflect-metadata';
import { Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { loadDist, packageVersion, type Library } from './library.js';
import { runJson } from './processes.js';
import { fixed, max, median, min } from './stats.js';

// The cost of @Timed()/@Counted() per call, beside nestjs-otel's @OtelMethodCounter(). Each case
// runs in a process of its own (`node decorators.js --case <case> [--quick]`, one JSON line on
// stdout), so one case's JIT feedback never shapes another's; the runner rotates the order.

const CASES = [
  'undecorated',
  '@Timed()',
  '@Counted()',
  '@Timed(), enabled: false',
  '@Counted(), enabled: false',
  'nestjs-otel @OtelMethodCounter()',
] as const;
type Case = (typeof CASES)[number];

/** What one case process measured. */
interface CaseResult {
  /** Median ns per call over the repetitions of this process. */
  nsPerCall: number;
  calls: number;
  /** Calls the metric recorded (`method_calls_total` or `_count`), when the case records any. */
  recorded?: number;
  /** What `recorded` must be, when not every call (0 with `enabled: false`). */
  expected?: number;
}

const quick = process.argv.includes('--quick');
const iterations = quick ? 100_000 : 500_000;
const repetitions = quick ? 3 : 5;

/** The method every case calls: cheap, so what the decorator adds shows. */
function work(this: unknown, i: number): number {
  return (i * 31) & 1023;
}

/** Median ns per call of `call` over the repetitions, after one warm-up loop. */
function measure(call: (i: number) => number): {
  nsPerCall: number;
  calls: number;
} {
  let sink = 0;
  const loop = (): number => {
    const start = process.hrtime.bigint();
    for (let i = 0; i < iterations; i++) sink ^= call(i);
    return Number(process.hrtime.bigint() - start) / iterations;
  };
  loop();
  const samples: number[] = [];
  for (let r = 0; r < repetitions; r++) samples.push(loop());
  if (sink === -1) process.stderr.write('\n'); // keeps `sink` alive
  return {
    nsPerCall: median(samples),
    calls: iterations * (repetitions + 1),
  };
}

/** Sums the samples of `family` in an exposition text. */
function sumOf(text: string, family: string): number {
  let total = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith(`${family}{`) || line.startsWith(`${family} `))
      total += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return total;
}

/** A class with `work` as it is, or decorated by `decorate`. */
function serviceClass(
  decorate?: MethodDecorator,
): new () => { work(i: number): number } {
  class Service {
    work(i: number): number {
      return work.call(this, i);
    }
  }
  if (decorate !== undefined) {
    const descriptor = Object.getOwnPropertyDescriptor(
      Service.prototype,
      'work',
    )!;
    Object.defineProperty(
      Service.prototype,
      'work',
      (decorate(Service.prototype, 'work', descriptor) as
        PropertyDescriptor | undefined) ?? descriptor,
    );
  }
  Injectable()(Service);
  return Service;
}

async function otelCase(): Promise<CaseResult> {
  const { metrics } = await import('@opentelemetry/api');
  const {
    AggregationTemporality,
    InMemoryMetricExporter,
    MeterProvider,
    PeriodicExportingMetricReader,
  } = await import('@opentelemetry/sdk-metrics');
  const exporter = new InMemoryMetricExporter(
    AggregationTemporality.CUMULATIVE,
  );
  const reader = new PeriodicExportingMetricReader({
    exporter,
    exportIntervalMillis: 3_600_000,
  });
  metrics.setGlobalMeterProvider(new MeterProvider({ readers: [reader] }));
  const { OtelMethodCounter } = await import('nestjs-otel');
  const Service = serviceClass(
    OtelMethodCounter({ name: 'bench_calls' }) as MethodDecorator,
  );
  const service = new Service();
  const measured = measure((i) => service.work(i));
  const { resourceMetrics } = await reader.collect();
  let recorded = 0;
  for (const scope of resourceMetrics.scopeMetrics)
    for (const metric of scope.metrics)
      if (metric.descriptor.name === 'bench_calls')
        for (const point of metric.dataPoints)
          recorded += point.value as number;
  await reader.shutdown();
  return { ...measured, recorded };
}

async function runCase(which: Case): Promise<CaseResult> {
  if (which === 'nestjs-otel @OtelMethodCounter()') return otelCase();
  const { Counted, MetricsModule, MetricsService, Timed } =
    await loadDist<Library>('index.js');
  const decorator = which.startsWith('@Timed()')
    ? (Timed() as MethodDecorator)
    : which.startsWith('@Counted()')
      ? (Counted() as MethodDecorator)
      : undefined;
  const Service = serviceClass(decorator);
  class BenchModule {}
  Module({
    imports: [
      MetricsModule.forRoot({
        defaultMetrics: false,
        enabled: !which.endsWith('enabled: false'),
      }),
    ],
    providers: [Service],
  })(BenchModule);
  const app = await NestFactory.createApplicationContext(BenchModule, {
    logger: false,
  });
  try {
    const service = app.get(Service);
    const measured = measure((i) => service.work(i));
    const text = await app.get(MetricsService).metrics();
    const timed = sumOf(text, 'method_duration_seconds_count');
    const counted = sumOf(text, 'method_calls_total');
    if (which.endsWith('enabled: false'))
      return { ...measured, recorded: timed + counted, expected: 0 };
    const recorded =
      which === '@Timed()'
        ? timed
        : which === '@Counted()'
          ? counted
          : undefined;
    return { ...measured, recorded };
  } finally {
    await app.close();
  }
}

/** The markdown table of the decorators part: ns per call, min/median/max over processes. */
export async function runDecoratorsBench(quickRun: boolean): Promise<string> {
  const rounds = quickRun ? 3 : 5;
  const byCase = new Map<Case, number[]>(CASES.map((c) => [c, []]));
  for (let round = 0; round < rounds; round++) {
    const order = [
      ...CASES.slice(round % CASES.length),
      ...CASES.slice(0, round % CASES.length),
    ];
    for (const which of order) {
      const result = await runJson<CaseResult>('decorators.js', [
        '--case',
        which,
        ...(quickRun ? ['--quick'] : []),
      ]);
      const expected = result.expected ?? result.calls;
      if (result.recorded !== undefined && result.recorded !== expected) {
        throw new Error(
          `decorators: ${which} recorded ${result.recorded} calls; expected ${expected} of ${result.calls}`,
        );
      }
      byCase.get(which)!.push(result.nsPerCall);
      process.stderr.write(
        `  round ${round + 1}/${rounds} ${which.padEnd(34)} ${result.nsPerCall.toFixed(1).padStart(8)} ns/call\n`,
      );
    }
  }
  const base = median(byCase.get('undecorated')!);
  const rows = CASES.map((which) => {
    const samples = byCase.get(which)!;
    const added =
      which === 'undecorated' ? '' : fixed(median(samples) - base, 1);
    return `| ${which} | ${fixed(min(samples), 1)} | ${fixed(median(samples), 1)} | ${fixed(max(samples), 1)} | ${added} |`;
  });
  rows.push(
    '| nestjs-otel, a method timer | — | — | — | none: nestjs-otel times no method (`@Span()` traces, it records no metric) |',
  );
  const perProcess = (quickRun ? 100_000 : 500_000).toLocaleString('en');
  return [
    `Method decorators: ns per call of a sync method, median of ${quickRun ? 3 : 5} × ${perProcess} calls per process, min/median/max over ${rounds} processes per case in rotated order (Node ${process.version}, nestjs-otel ${packageVersion('nestjs-otel')}, @opentelemetry/sdk-metrics ${packageVersion('@opentelemetry/sdk-metrics')}). nestjs-otel's counter has no attributes; ours labels class, method, result and exception. Every recorded count was checked against the calls made.`,
    '',
    '| case | min (ns) | median (ns) | max (ns) | added vs undecorated (ns) |',
    '| ---- | -------: | ----------: | -------: | ------------------------: |',
    ...rows,
  ].join('\n');
}

const caseIndex = process.argv.indexOf('--case');
if (caseIndex !== -1) {
  const which = process.argv[caseIndex + 1] as Case;
  if (!CASES.includes(which)) throw new Error(`unknown case "${which}"`);
  process.stdout.write(`${JSON.stringify(await runCase(which))}\n`);
  process.exit(0);
}
