import os from 'node:os';
import { ROUTES } from './app.js';
import { packageVersion } from './library.js';
import type { Measurements, MemoryResult, Sample } from './measurements.js';
import type { BenchOptions } from './options.js';
import { LOAD_CORE, PINNING, SERVER_CORE } from './processes.js';
import { fixed, max, median, min } from './stats.js';
import { VARIANTS } from './variants.js';

/** The budget nestjs-metrics is held to (diagnostic variants are not). */
export const BUDGET = {
  minThroughputRatio: 0.97,
  maxAddedCpuMicros: 8,
  maxScrapeMicrosPerLine: 1,
  maxRssGrowthMegabytes: 10,
};

const MB = 1024 * 1024;

function table(header: string[], rows: string[][]): string {
  const line = (cells: string[]): string => `| ${cells.join(' | ')} |`;
  return [
    line(header),
    line(header.map((h, i) => (i === 0 ? '---' : '---:'))),
    ...rows.map(line),
  ].join('\n');
}

function label(id: string): string {
  const variant = VARIANTS.find((v) => v.id === id);
  if (variant === undefined) return id;
  return variant.diagnostic
    ? `${variant.label} _(diagnostic)_`
    : `**${variant.label}**`;
}

/** Paired per round: f(variant sample, bare sample) for each round both ran. */
function paired(
  samples: readonly Sample[],
  route: string,
  variant: string,
  baseline: string,
  f: (v: Sample, b: Sample) => number,
): number[] {
  const values: number[] = [];
  for (const v of samples) {
    if (v.route !== route || v.variant !== variant) continue;
    const b = samples.find(
      (s) => s.route === route && s.variant === baseline && s.round === v.round,
    );
    if (b !== undefined) values.push(f(v, b));
  }
  return values;
}

const ratio = (v: Sample, b: Sample): number =>
  v.requestsPerSecond / b.requestsPerSecond;
const addedCpu = (v: Sample, b: Sample): number =>
  v.cpuMicrosPerRequest - b.cpuMicrosPerRequest;

interface Check {
  name: string;
  measured: string;
  budget: string;
  pass: boolean;
}

function loadSection(m: Measurements, checks: Check[]): string[] {
  const out: string[] = [];
  const routes = ROUTES.filter((r) =>
    m.samples.some((s) => s.route === r.name),
  );
  const variants = VARIANTS.filter((v) =>
    m.samples.some((s) => s.variant === v.id),
  );
  out.push('## Throughput, latency and CPU per route', '');
  out.push(
    'Medians over the rounds. Ratio: per round, the variant’s req/s ÷ bare Nest’s req/s in the same round (min / median / max). Added CPU: per round, the variant’s CPU µs per request − bare Nest’s (median).',
    '',
  );
  for (const route of routes) {
    out.push(
      `### ${route.name}: \`${route.method} ${route.path}\` → ${route.status}`,
      '',
    );
    const rows: string[][] = [];
    for (const variant of variants) {
      const own = m.samples.filter(
        (s) => s.route === route.name && s.variant === variant.id,
      );
      const ratios = paired(m.samples, route.name, variant.id, 'bare', ratio);
      const added = paired(m.samples, route.name, variant.id, 'bare', addedCpu);
      const isBare = variant.id === 'bare';
      rows.push([
        label(variant.id),
        fixed(median(own.map((s) => s.requestsPerSecond)), 0),
        fixed(median(own.map((s) => s.p50Ms)), 2),
        fixed(median(own.map((s) => s.p99Ms)), 2),
        fixed(median(own.map((s) => s.cpuMicrosPerRequest)), 1),
        isBare
          ? '1'
          : `${fixed(min(ratios), 3)} / ${fixed(median(ratios), 3)} / ${fixed(max(ratios), 3)}`,
        isBare ? '0' : fixed(median(added), 1),
      ]);
      if (variant.id === 'metrics') {
        const r = median(ratios);
        const a = median(added);
        checks.push({
          name: `throughput vs bare Nest, ${route.name}`,
          measured: fixed(r, 3),
          budget: `≥ ${BUDGET.minThroughputRatio}`,
          pass: r >= BUDGET.minThroughputRatio,
        });
        checks.push({
          name: `added CPU per request, ${route.name}`,
          measured: `${fixed(a, 1)} µs`,
          budget: `≤ ${BUDGET.maxAddedCpuMicros} µs`,
          pass: a <= BUDGET.maxAddedCpuMicros,
        });
      }
    }
    out.push(
      table(
        [
          'variant',
          'req/s',
          'p50 ms',
          'p99 ms',
          'CPU µs/req',
          'ratio vs bare',
          'added CPU µs/req',
        ],
        rows,
      ),
      '',
    );
  }
  out.push(
    ...breakdownSection(
      m.samples,
      routes.map((r) => r.name),
    ),
  );
  for (const c of m.countChecks) {
    out.push(
      `Count check, ${c.variant}: \`requests_total\` = ${c.counted}; the load generator received ${c.received} responses over ${c.windows} windows (a window’s last in-flight responses can be served but not read, so the server may count up to connections × windows more).`,
      '',
    );
  }
  return out;
}

/** Where the added CPU goes, from the diagnostic variants (paired per round, medians). */
function breakdownSection(
  samples: readonly Sample[],
  routes: string[],
): string[] {
  const parts = [
    {
      name: 'Nest interceptor pipeline (a no-op global interceptor)',
      variant: 'bare-noop-interceptor',
      baseline: 'bare',
    },
    {
      name: 'HTTP hook and recorder (module with a pass-through interceptor − bare + no-op interceptor)',
      variant: 'metrics-noop-interceptor',
      baseline: 'bare-noop-interceptor',
    },
    {
      name: 'MetricsInterceptor’s own work (module − module with a pass-through interceptor)',
      variant: 'metrics',
      baseline: 'metrics-noop-interceptor',
    },
    {
      name: 'default process metrics (module − module with defaultMetrics: false)',
      variant: 'metrics',
      baseline: 'metrics-no-default-metrics',
    },
  ];
  const present = (id: string): boolean =>
    samples.some((s) => s.variant === id);
  const available = parts.filter(
    (p) => present(p.variant) && present(p.baseline),
  );
  if (available.length === 0) return [];
  const rows = available.map((p) => [
    p.name,
    ...routes.map((route) =>
      fixed(median(paired(samples, route, p.variant, p.baseline, addedCpu)), 1),
    ),
  ]);
  return [
    '### Where the added CPU goes (diagnostics)',
    '',
    'CPU µs per request, paired per round, median. Differences of noisy numbers: read them as ±1 µs at best.',
    '',
    table(['part', ...routes], rows),
    '',
  ];
}

function recorderSection(m: Measurements): string[] {
  if (m.recorder === undefined) return [];
  return [
    '## Recording path alone',
    '',
    `\`started()\` + \`record()\` + \`ended()\` of \`RequestMetrics\` (from \`dist/\`) on a route series resolved once, in a loop of ${m.recorder.iterations.toLocaleString('en-US')} requests, median of ${m.recorder.repetitions} repetitions.`,
    '',
    table(
      ['case', 'ns per request'],
      m.recorder.cases.map((c) => [c.name, fixed(c.nsPerRequest, 0)]),
    ),
    '',
  ];
}

function scrapeSection(m: Measurements, checks: Check[]): string[] {
  if (m.scrape === undefined) return [];
  const [library] = m.scrape;
  checks.push({
    name: `scrape, ${library.series.toLocaleString('en-US')} series`,
    measured: `${fixed(library.microsPerLine, 2)} µs/line`,
    budget: `≤ ${BUDGET.maxScrapeMicrosPerLine} µs/line`,
    pass: library.microsPerLine <= BUDGET.maxScrapeMicrosPerLine,
  });
  return [
    '## Scrape cost',
    '',
    `${library.series.toLocaleString('en-US')} request series (2,500 routes × 4 statuses, two of them errors), rendered by \`registry.metrics()\`; median of ${library.scrapes} scrapes. The nestjs-metrics registry is the module’s own (default process metrics on); the prom-client line holds the same label sets in plain prom-client counters and a histogram, for reference. Longest block: the longest gap between two \`setImmediate\` ticks during a scrape.`,
    '',
    table(
      [
        'registry',
        'sample lines',
        'MB',
        'scrape ms',
        'µs per line',
        'longest block ms (median / worst)',
      ],
      m.scrape.map((s) => [
        s.name,
        s.lines.toLocaleString('en-US'),
        fixed(s.bytes / MB, 1),
        fixed(s.scrapeMs, 1),
        fixed(s.microsPerLine, 2),
        `${fixed(s.longestBlockMs, 1)} / ${fixed(s.worstBlockMs, 1)}`,
      ]),
    ),
    '',
  ];
}

function memorySection(m: Measurements, checks: Check[]): string[] {
  const results = m.memory;
  if (results === undefined || results.length === 0) return [];
  const growth = (r: MemoryResult): number =>
    (r.rssAfterBytes - r.rssWarmBytes) / MB;
  const library = results.find((r) => r.variant === 'metrics');
  if (library !== undefined) {
    checks.push({
      name: `RSS growth after ${library.requests.toLocaleString('en-US')} requests`,
      measured: `${fixed(growth(library), 1)} MB`,
      budget: `≤ ${BUDGET.maxRssGrowthMegabytes} MB`,
      pass: growth(library) <= BUDGET.maxRssGrowthMegabytes,
    });
  }
  const first = results[0];
  const out = [
    '## Memory',
    '',
    `Each server after ${first.warmupRequests.toLocaleString('en-US')} warm-up requests (the four routes), then after ${first.requests.toLocaleString('en-US')} more, ${first.randomPaths.toLocaleString('en-US')} of them to distinct random paths (half \`/items/<random>\`, half \`/nope/<random>\`, which match no route). Both readings follow a forced GC. Bare Nest under the same load is the control.`,
    '',
    table(
      [
        'server',
        'RSS MB after warm-up',
        'RSS MB after the test',
        'RSS growth MB',
        'heap used growth MB',
        'heap total growth MB',
        'seconds',
      ],
      results.map((r) => [
        label(r.variant),
        fixed(r.rssWarmBytes / MB, 1),
        fixed(r.rssAfterBytes / MB, 1),
        fixed(growth(r), 1),
        fixed((r.heapAfterBytes - r.heapWarmBytes) / MB, 1),
        fixed((r.heapTotalAfterBytes - r.heapTotalWarmBytes) / MB, 1),
        fixed(r.seconds, 0),
      ]),
    ),
    '',
  ];
  if (library?.countedRequests !== undefined) {
    out.push(
      `nestjs-metrics: \`requests_total\` = ${library.countedRequests.toLocaleString('en-US')} in ${library.requestSeries} series; the load generator received ${library.receivedRequests.toLocaleString('en-US')} responses${library.countedRequests === library.receivedRequests ? ' (equal)' : ' (**differs**)'}.`,
      '',
    );
  }
  return out;
}

/** The short form for the README: main variants against bare Nest, per route, and the budget. */
export function summary(options: BenchOptions, m: Measurements): string {
  const checks: Check[] = [];
  loadSection(m, checks);
  scrapeSection(m, checks);
  memorySection(m, checks);
  const routes = ROUTES.filter((r) =>
    m.samples.some((s) => s.route === r.name),
  );
  const variants = VARIANTS.filter(
    (v) =>
      !v.diagnostic &&
      v.id !== 'bare' &&
      m.samples.some((s) => s.variant === v.id),
  );
  const out = [
    `${new Date().toISOString().slice(0, 10)}, ${os.cpus()[0]?.model.trim() ?? 'unknown CPU'}, Node.js ${process.version}${options.quick ? ' (quick run, not representative)' : ''}. Throughput ÷ bare Nest (median of paired rounds) and added CPU µs per request:`,
    '',
  ];
  if (routes.length > 0) {
    out.push(
      table(
        ['route', ...variants.map((v) => v.label)],
        routes.map((route) => [
          `${route.method} ${route.path}`,
          ...variants.map((v) => {
            const r = median(
              paired(m.samples, route.name, v.id, 'bare', ratio),
            );
            const a = median(
              paired(m.samples, route.name, v.id, 'bare', addedCpu),
            );
            return `${fixed(r, 3)}, +${fixed(a, 1)} µs`;
          }),
        ]),
      ),
      '',
    );
  }
  out.push(
    table(
      ['budget check (nestjs-metrics)', 'measured', 'budget', 'result'],
      checks.map((c) => [
        c.name,
        c.measured,
        c.budget,
        c.pass ? 'PASS' : 'FAIL',
      ]),
    ),
  );
  return out.join('\n');
}

/** The whole report, as markdown. */
export function report(options: BenchOptions, m: Measurements): string {
  const checks: Check[] = [];
  const cpus = os.cpus();
  const body = [
    ...loadSection(m, checks),
    ...recorderSection(m),
    ...scrapeSection(m, checks),
    ...memorySection(m, checks),
  ];
  const head = [
    '# Benchmark results',
    '',
    `Produced by \`npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}\` on ${new Date().toISOString().slice(0, 10)}.${options.quick ? ' **Quick run: short windows, not representative.**' : ''}`,
    '',
    `- Machine: ${cpus[0]?.model.trim() ?? 'unknown CPU'}, ${cpus.length} cores, ${fixed(os.totalmem() / 1024 ** 3, 1)} GB, ${os.type()} ${os.release()}`,
    `- Node.js ${process.version}, @nestjs/core ${packageVersion('@nestjs/core')}, @nestjs/platform-express ${packageVersion('@nestjs/platform-express')}, express ${packageVersion('express')}, prom-client ${packageVersion('prom-client')}, express-prom-bundle ${packageVersion('express-prom-bundle')}, @willsoto/nestjs-prometheus ${packageVersion('@willsoto/nestjs-prometheus')}, autocannon ${packageVersion('autocannon')}`,
    `- Load: autocannon, ${options.connections} connections, ${options.warmup} s warm-up per variant and route, then ${options.rounds} rounds of ${options.duration} s windows; each round runs every variant once per route, in an order rotated every round and route.`,
    PINNING
      ? `- Each server runs alone in its process pinned to core ${SERVER_CORE}, the load generator to core ${LOAD_CORE} (taskset).`
      : '- taskset is not available: processes are not pinned to cores.',
    '- CPU per request: the server process’s user + system CPU time over a window (`process.cpuUsage()`, read over IPC before and after) ÷ the responses received in it.',
    '',
  ];
  const budget =
    checks.length === 0
      ? []
      : [
          '## Budget (nestjs-metrics)',
          '',
          table(
            ['check', 'measured', 'budget', 'result'],
            checks.map((c) => [
              c.name,
              c.measured,
              c.budget,
              c.pass ? 'PASS' : '**FAIL**',
            ]),
          ),
          '',
        ];
  return [...head, ...budget, ...body].join('\n');
}
