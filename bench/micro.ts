import {
  Injectable,
  Module,
  type INestApplicationContext,
  type Provider,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Registry, type OpenMetricsContentType } from 'prom-client';
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
  /** What the registry holds: `request families`, `MetricsService counters`, ... */
  kind: string;
  /** `nestjs-metrics` (the scrape endpoint's renderer) or `prom-client (reference)`. */
  name: string;
  format: 'prometheus' | 'openmetrics';
  gzip: boolean;
  series: number;
  lines: number;
  /** Bytes of the body before gzip. */
  bytes: number;
  scrapeMs: number;
  /** Wall time per sample line (median scrape ÷ lines). */
  microsPerLine: number;
  /** CPU time of the process (every thread: gzip runs in the libuv pool) per sample line. */
  cpuMicrosPerLine: number;
  /** Longest gap between two setImmediate ticks during a scrape (median over scrapes, and worst). */
  longestBlockMs: number;
  worstBlockMs: number;
  scrapes: number;
}

type RenderModule = typeof import('../lib/scrape/render-exposition.js');
type FormatModule = typeof import('../lib/scrape/exposition-format.js');
type EndpointModule = typeof import('../lib/scrape/metrics-endpoint.js');

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

type Render = () => Promise<{ chunks: string[] }>;

/** The scrape endpoint's work after rendering: one UTF-8 buffer, gzipped when asked. */
async function body(
  chunks: readonly string[],
  compress: boolean,
): Promise<Buffer> {
  const { scrapeBody } = await loadDist<EndpointModule>(
    'scrape/metrics-endpoint.js',
  );
  return scrapeBody(chunks, compress);
}

/** Scrapes a few times; wall and CPU time, lines and the longest event-loop block. */
async function timeScrapes(
  kind: string,
  name: string,
  format: ScrapeResult['format'],
  compress: boolean,
  series: number,
  render: Render,
): Promise<ScrapeResult> {
  const scrapes = quick ? 3 : 7;
  for (let i = 0; i < 2; i++) await body((await render()).chunks, compress);
  const durationsMs: number[] = [];
  const blocks: number[] = [];
  let chunks: string[] = [];
  let cpuMicros = 0;
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
    const cpu = process.cpuUsage();
    const start = performance.now();
    chunks = (await render()).chunks;
    await body(chunks, compress);
    const end = performance.now();
    const used = process.cpuUsage(cpu);
    cpuMicros += used.user + used.system;
    ticking = false;
    await new Promise((resolve) => setImmediate(resolve));
    longest = Math.max(longest, end - last);
    durationsMs.push(end - start);
    blocks.push(longest);
  }
  const text = chunks.join('');
  const lines = text
    .split('\n')
    .filter((line) => line !== '' && !line.startsWith('#')).length;
  const scrapeMs = median(durationsMs);
  return {
    kind,
    name,
    format,
    gzip: compress,
    series,
    lines,
    bytes: Buffer.byteLength(text),
    scrapeMs,
    microsPerLine: (scrapeMs * 1000) / lines,
    cpuMicrosPerLine: cpuMicros / scrapes / lines,
    longestBlockMs: median(blocks),
    worstBlockMs: Math.max(...blocks),
    scrapes,
  };
}

/**
 * Both formats, without and with gzip, through the scrape endpoint's renderer and through
 * prom-client's own `registry.metrics()`. prom-client renames its counters in place when it
 * renders OpenMetrics, so that rendering comes last.
 */
async function measureRegistry(
  kind: string,
  series: number,
  registry: Registry,
): Promise<ScrapeResult[]> {
  const { renderExpositionChunks } = await loadDist<RenderModule>(
    'scrape/render-exposition.js',
  );
  const { OPENMETRICS_TEXT, PROMETHEUS_TEXT } = await loadDist<FormatModule>(
    'scrape/exposition-format.js',
  );
  const results: ScrapeResult[] = [];
  const reference = (): Render => async () => ({
    chunks: [await Registry.prototype.metrics.call(registry)],
  });
  for (const format of [PROMETHEUS_TEXT, OPENMETRICS_TEXT]) {
    for (const compress of [false, true]) {
      results.push(
        await timeScrapes(
          kind,
          'nestjs-metrics',
          format.name,
          compress,
          series,
          () => renderExpositionChunks(registry, format),
        ),
      );
    }
    if (format === OPENMETRICS_TEXT)
      (registry as unknown as Registry<OpenMetricsContentType>).setContentType(
        Registry.OPENMETRICS_CONTENT_TYPE,
      );
    for (const compress of [false, true]) {
      results.push(
        await timeScrapes(
          kind,
          'prom-client (reference)',
          format.name,
          compress,
          series,
          reference(),
        ),
      );
    }
  }
  return results;
}

const STATUSES = [
  { status: '200', errorType: undefined },
  { status: '201', errorType: undefined },
  { status: '404', errorType: 'not_found' },
  { status: '500', errorType: 'internal' },
] as const;

interface ScrapeApp {
  context: INestApplicationContext;
  registry: Registry;
}

/** The module in an application context, with `maxSeries` above `series`. */
async function scrapeApp(
  series: number,
  providers: Provider[] = [],
  defaultMetrics = false,
): Promise<ScrapeApp> {
  const { MetricsModule, METRICS_REGISTRY } =
    await loadDist<Library>('index.js');
  // maxSeries raised so that every one of the series is its own (the default would fold most into OVERFLOW).
  @Module({
    imports: [MetricsModule.forRoot({ maxSeries: series * 2, defaultMetrics })],
    providers,
  })
  class ScrapeModule {}
  const context = await NestFactory.createApplicationContext(ScrapeModule, {
    logger: false,
  });
  const registry = context.get<string, Registry>(METRICS_REGISTRY, {
    strict: false,
  });
  return { context, registry };
}

/** `series` request series (routes × 4 statuses, two of them errors). */
async function recordRequests(app: ScrapeApp, series: number): Promise<void> {
  const { RequestMetrics } = await loadDist<RecorderModule>(
    'recorder/request-metrics.js',
  );
  const metrics = app.context.get(RequestMetrics, { strict: false });
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
}

/** `series` label sets of a MetricsService counter, gauge or histogram (the module's buckets). */
async function recordService(
  app: ScrapeApp,
  kind: 'counter' | 'gauge' | 'histogram',
  series: number,
): Promise<void> {
  const { MetricsService } = await loadDist<Library>('index.js');
  const service = app.context.get(MetricsService, { strict: false });
  const seconds = durations();
  const labelNames = ['queue', 'job'] as const;
  const queues = 20;
  const label = (i: number) => ({
    queue: `queue-${i % queues}`,
    job: `job-${Math.floor(i / queues)}`,
  });
  if (kind === 'counter') {
    const counter = service.counter('jobs_done_total', { labelNames });
    for (let i = 0; i < series; i++) counter.inc(label(i), (i % 7) + 1);
  } else if (kind === 'gauge') {
    const gauge = service.gauge('jobs_waiting', { labelNames });
    for (let i = 0; i < series; i++) gauge.set(label(i), i * 0.25);
  } else {
    const histogram = service.histogram('job_duration_seconds', {
      labelNames,
    });
    for (let i = 0; i < series; i++)
      histogram.observe(label(i), seconds[i & 1023]);
  }
}

/**
 * A provider of `methods` methods, each with @Timed and @Counted; each called once to succeed and
 * once to fail: 2 × `methods` label sets in the histogram and in the counter each.
 */
async function decoratedProvider(methods: number): Promise<{
  provider: Provider;
  call: (app: ScrapeApp) => void;
}> {
  const { Timed, Counted } = await loadDist<Library>('index.js');
  class Jobs {}
  const proto = Jobs.prototype as unknown as Record<
    string,
    (fail: boolean) => void
  >;
  for (let m = 0; m < methods; m++) {
    const name = `job${m}`;
    proto[name] = function (fail: boolean): void {
      if (fail) throw new RangeError('failed');
    };
    const descriptor = Object.getOwnPropertyDescriptor(proto, name)!;
    Timed()(proto, name, descriptor);
    Counted()(proto, name, descriptor);
    Object.defineProperty(proto, name, descriptor);
  }
  Injectable()(Jobs);
  return {
    provider: Jobs,
    call: (app) => {
      const jobs = app.context.get(Jobs) as unknown as typeof proto;
      for (let m = 0; m < methods; m++) {
        jobs[`job${m}`](false);
        try {
          jobs[`job${m}`](true);
        } catch {
          // Counted as a failure.
        }
      }
    },
  };
}

/** 10,000 series of each kind, one registry per kind, and a mix of all kinds. */
async function scrapeAll(series: number): Promise<ScrapeResult[]> {
  const results: ScrapeResult[] = [];
  const measure = async (
    kind: string,
    fill: (app: ScrapeApp) => Promise<void> | void,
    providers: Provider[] = [],
    defaultMetrics = false,
  ): Promise<void> => {
    const app = await scrapeApp(series, providers, defaultMetrics);
    await fill(app);
    results.push(...(await measureRegistry(kind, series, app.registry)));
    await app.context.close();
  };
  await measure('request families', (app) => recordRequests(app, series));
  for (const kind of ['counter', 'gauge', 'histogram'] as const)
    await measure(`MetricsService ${kind}s`, (app) =>
      recordService(app, kind, series),
    );
  // Half the series in the @Timed histogram, half in the @Counted counter.
  const decorated = await decoratedProvider(series / 4);
  await measure('@Timed/@Counted', decorated.call, [decorated.provider]);
  const mixed = await decoratedProvider(series / 5 / 4);
  await measure(
    'mix (a fifth of each)',
    async (app) => {
      await recordRequests(app, series / 5);
      for (const kind of ['counter', 'gauge', 'histogram'] as const)
        await recordService(app, kind, series / 5);
      mixed.call(app);
    },
    [mixed.provider],
    true,
  );
  return results;
}

const what = process.argv[2];
let result: unknown;
if (what === 'recorder') {
  result = await recorder();
} else if (what === 'scrape') {
  // Quick only checks the harness: a fifth of the series.
  result = await scrapeAll(quick ? 2_000 : 10_000);
} else {
  throw new Error(`usage: micro.js recorder|scrape [--quick]`);
}
process.stdout.write(`${JSON.stringify(result)}\n`);
// Started by the runner with an IPC channel: close it so the process can end.
process.disconnect?.();
