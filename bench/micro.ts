import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Counter, Histogram, Registry } from 'prom-client';
import { loadDist, type Library, type RecorderModule } from './library.js';
import { median } from './stats.js';

// In-process measurements, run in a child of the runner: `node micro.js recorder|scrape [--quick]`.
// Prints one JSON line on stdout.

export interface RecorderResult {
  /** ns for started() + record() + ended() of one request, by case. */
  cases: { name: string; nsPerRequest: number }[];
  iterations: number;
  repetitions: number;
}

export interface ScrapeResult {
  name: string;
  series: number;
  lines: number;
  bytes: number;
  scrapeMs: number;
  microsPerLine: number;
  /** Longest gap between two setImmediate ticks during a scrape (median over scrapes, and worst). */
  longestBlockMs: number;
  worstBlockMs: number;
  scrapes: number;
}

const quick = process.argv.includes('--quick');

/** Durations spread over the buckets, so bucket search is not always the first slot. */
function durations(): Float64Array {
  const values = new Float64Array(1024);
  let seed = 42;
  for (let i = 0; i < values.length; i++) {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    values[i] = 0.0005 * Math.exp((seed / 2 ** 31) * 7); // 0.5 ms .. 0.55 s
  }
  return values;
}

async function recorder(): Promise<RecorderResult> {
  const { RequestMetrics } = await loadDist<RecorderModule>(
    'recorder/request-metrics.js',
  );
  const { DEFAULT_DURATION_BUCKETS } = await loadDist<Library>('index.js');
  const metrics = new RequestMetrics('', DEFAULT_DURATION_BUCKETS);
  metrics.register(new Registry());
  const series = metrics.route('http', 'GET', '/items/:id');
  const seconds = durations();
  const iterations = quick ? 200_000 : 2_000_000;
  const repetitions = quick ? 5 : 15;

  const cases = [
    { name: 'status 200', status: '200', errorType: undefined },
    { name: 'status 404, error_type', status: '404', errorType: 'not_found' },
  ] as const;
  const results: RecorderResult['cases'] = [];
  for (const c of cases) {
    const loop = (n: number): number => {
      const start = process.hrtime.bigint();
      for (let i = 0; i < n; i++) {
        metrics.started('http');
        metrics.record(series, {
          status: c.status,
          durationSeconds: seconds[i & 1023],
          requestBytes: 0,
          responseBytes: 27,
          errorType: c.errorType,
        });
        metrics.ended('http');
      }
      return Number(process.hrtime.bigint() - start) / n;
    };
    loop(iterations); // warm-up: let the JIT settle
    const samples: number[] = [];
    for (let r = 0; r < repetitions; r++) samples.push(loop(iterations));
    results.push({ name: c.name, nsPerRequest: median(samples) });
  }
  return { cases: results, iterations, repetitions };
}

/** Scrapes `registry` a few times; duration, lines and the longest event-loop block. */
async function timeScrapes(
  name: string,
  series: number,
  registry: Registry,
): Promise<ScrapeResult> {
  const scrapes = quick ? 5 : 15;
  for (let i = 0; i < 2; i++) await registry.metrics();
  const durationsMs: number[] = [];
  const blocks: number[] = [];
  let text = '';
  for (let i = 0; i < scrapes; i++) {
    let last = performance.now();
    let longest = 0;
    let ticking = true;
    const tick = (): void => {
      const now = performance.now();
      longest = Math.max(longest, now - last);
      last = now;
      if (ticking) setImmediate(tick);
    };
    setImmediate(tick);
    const start = performance.now();
    text = await registry.metrics();
    const end = performance.now();
    ticking = false;
    await new Promise((resolve) => setImmediate(resolve));
    longest = Math.max(longest, end - last);
    durationsMs.push(end - start);
    blocks.push(longest);
  }
  const lines = text
    .split('\n')
    .filter((line) => line !== '' && !line.startsWith('#')).length;
  const scrapeMs = median(durationsMs);
  return {
    name,
    series,
    lines,
    bytes: Buffer.byteLength(text),
    scrapeMs,
    microsPerLine: (scrapeMs * 1000) / lines,
    longestBlockMs: median(blocks),
    worstBlockMs: Math.max(...blocks),
    scrapes,
  };
}

const STATUSES = [
  { status: '200', errorType: undefined },
  { status: '201', errorType: undefined },
  { status: '404', errorType: 'not_found' },
  { status: '500', errorType: 'internal' },
] as const;

/** 10,000 request series (2,500 routes x 4 statuses) in the module's own registry, default metrics on. */
async function scrapeLibrary(series: number): Promise<ScrapeResult> {
  const { MetricsModule, METRICS_REGISTRY } =
    await loadDist<Library>('index.js');
  const { RequestMetrics } = await loadDist<RecorderModule>(
    'recorder/request-metrics.js',
  );
  // maxSeries raised so that every one of the series is its own (the default would fold most into OVERFLOW).
  @Module({ imports: [MetricsModule.forRoot({ maxSeries: series })] })
  class ScrapeModule {}
  const context = await NestFactory.createApplicationContext(ScrapeModule, {
    logger: false,
  });
  const metrics = context.get(RequestMetrics, { strict: false });
  const registry = context.get<string, Registry>(METRICS_REGISTRY, {
    strict: false,
  });
  const seconds = durations();
  const routes = series / STATUSES.length;
  for (let r = 0; r < routes; r++) {
    const route = metrics.route('http', 'GET', `/resource${r}/:id`);
    for (const [s, { status, errorType }] of STATUSES.entries()) {
      metrics.record(route, {
        status,
        durationSeconds: seconds[(r * 4 + s) & 1023],
        requestBytes: 0,
        responseBytes: 100,
        errorType,
      });
    }
  }
  const result = await timeScrapes('nestjs-metrics', series, registry);
  await context.close();
  return result;
}

/** The same label sets in plain prom-client metrics, for reference. */
async function scrapePromClient(series: number): Promise<ScrapeResult> {
  const registry = new Registry();
  const labelNames = ['transport', 'method', 'route', 'status'];
  const requests = new Counter({
    name: 'requests_total',
    help: 'h',
    labelNames,
    registers: [registry],
  });
  const requestBytes = new Counter({
    name: 'request_bytes_total',
    help: 'h',
    labelNames,
    registers: [registry],
  });
  const responseBytes = new Counter({
    name: 'response_bytes_total',
    help: 'h',
    labelNames,
    registers: [registry],
  });
  const errors = new Counter({
    name: 'errors_total',
    help: 'h',
    labelNames: ['transport', 'method', 'route', 'error_type'],
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'request_duration_seconds',
    help: 'h',
    labelNames,
    buckets: [
      0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10,
    ],
    registers: [registry],
  });
  const seconds = durations();
  const routes = series / STATUSES.length;
  for (let r = 0; r < routes; r++) {
    for (const [s, { status, errorType }] of STATUSES.entries()) {
      const labels = {
        transport: 'http',
        method: 'GET',
        route: `/resource${r}/:id`,
        status,
      };
      requests.inc(labels);
      requestBytes.inc(labels, 0);
      responseBytes.inc(labels, 100);
      duration.observe(labels, seconds[(r * 4 + s) & 1023]);
      if (errorType !== undefined) {
        errors.inc({
          transport: 'http',
          method: 'GET',
          route: labels.route,
          error_type: errorType,
        });
      }
    }
  }
  return timeScrapes('prom-client (reference)', series, registry);
}

const what = process.argv[2];
let result: unknown;
if (what === 'recorder') {
  result = await recorder();
} else if (what === 'scrape') {
  const series = 10_000;
  result = [await scrapeLibrary(series), await scrapePromClient(series)];
} else {
  throw new Error(`usage: micro.js recorder|scrape [--quick]`);
}
process.stdout.write(`${JSON.stringify(result)}\n`);
// Started by the runner with an IPC channel: close it so the process can end.
process.disconnect?.();
