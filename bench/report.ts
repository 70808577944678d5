import os from 'node:os';
import { ROUTES } from './app.js';
import { packageVersion } from './library.js';
import type {
  InstructionSample,
  Measurements,
  MemoryResult,
  Sample,
} from './measurements.js';
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
function paired<S extends { round: number; route: string; variant: string }>(
  samples: readonly S[],
  route: string,
  variant: string,
  baseline: string,
  f: (v: S, b: S) => number,
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

const addedInstructions = (
  v: InstructionSample,
  b: InstructionSample,
): number => v.instructionsPerRequest - b.instructionsPerRequest;
const instructionRatio = (v: InstructionSample, b: InstructionSample): number =>
  v.instructionsPerRequest / b.instructionsPerRequest;

/** Thousands, with one decimal. */
const thousands = (value: number): string => fixed(value / 1000, 1);
/** Thousands with a sign: an added count can be negative. */
const signedThousands = (value: number): string =>
  `${value >= 0 ? '+' : ''}${thousands(value)}`;

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

/** Differences between variants that isolate one part of the added cost. */
const BREAKDOWN = [
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
    name: 'the optional global interceptor, saved (module − module with a pass-through `interceptor` extra)',
    variant: 'metrics',
    baseline: 'metrics-noop-interceptor',
  },
  {
    name: 'default process metrics (module − module with defaultMetrics: false)',
    variant: 'metrics',
    baseline: 'metrics-no-default-metrics',
  },
];

/** Where the added CPU goes, from the diagnostic variants (paired per round, medians). */
function breakdownSection(
  samples: readonly Sample[],
  routes: string[],
): string[] {
  const parts = BREAKDOWN;
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

function instructionsSection(options: BenchOptions, m: Measurements): string[] {
  if (m.instructionsSkipped !== undefined) {
    return [
      '## Instructions per request',
      '',
      `Not measured: hardware instruction counters are not usable here (${m.instructionsSkipped}).`,
      '',
    ];
  }
  const samples = m.instructions ?? [];
  if (samples.length === 0) return [];
  const routes = ROUTES.filter((r) => samples.some((s) => s.route === r.name));
  const variants = VARIANTS.filter((v) =>
    samples.some((s) => s.variant === v.id),
  );
  const rounds = new Set(samples.map((s) => s.round)).size;
  const out = [
    '## Instructions per request',
    '',
    `User-space instructions retired by the server process (all its threads, garbage collection included; \`perf stat -e instructions:u -p <pid>\`) over ${options.instructionRequests.toLocaleString('en-US')} requests ÷ the responses received, in thousands. Each measurement starts a fresh server, warms it up with ${options.instructionWarmup.toLocaleString('en-US')} requests, then counts; ${rounds} rounds run every variant once per route in a rotated order. Unlike CPU time, the count does not depend on what else runs on the machine, so small differences show; it is not time (an instruction that misses the cache costs more than one that hits). Kernel work (sockets, TCP) is not counted. Added and ratio: per round, the variant’s count − and ÷ bare Nest’s in the same round, median.`,
    '',
  ];
  for (const route of routes) {
    out.push(
      `### ${route.name}: \`${route.method} ${route.path}\` → ${route.status}`,
      '',
    );
    const rows = variants.map((variant) => {
      const own = samples.filter(
        (s) => s.route === route.name && s.variant === variant.id,
      );
      const isBare = variant.id === 'bare';
      const perRequest = own.map((s) => s.instructionsPerRequest);
      return [
        label(variant.id),
        thousands(median(perRequest)),
        `${thousands(min(perRequest))} – ${thousands(max(perRequest))}`,
        isBare
          ? '0'
          : signedThousands(
              median(
                paired(
                  samples,
                  route.name,
                  variant.id,
                  'bare',
                  addedInstructions,
                ),
              ),
            ),
        isBare
          ? '1'
          : fixed(
              median(
                paired(
                  samples,
                  route.name,
                  variant.id,
                  'bare',
                  instructionRatio,
                ),
              ),
              3,
            ),
      ];
    });
    out.push(
      table(
        [
          'variant',
          'k instructions/req',
          'range (min – max)',
          'added k/req vs bare',
          'ratio vs bare',
        ],
        rows,
      ),
      '',
    );
  }
  const present = (id: string): boolean =>
    samples.some((s) => s.variant === id);
  const parts = BREAKDOWN.filter(
    (p) => present(p.variant) && present(p.baseline),
  );
  if (parts.length > 0) {
    out.push(
      '### Where the added instructions go (diagnostics)',
      '',
      'Thousands of instructions per request, paired per round, median.',
      '',
      table(
        ['part', ...routes.map((r) => r.name)],
        parts.map((p) => [
          p.name,
          ...routes.map((route) =>
            signedThousands(
              median(
                paired(
                  samples,
                  route.name,
                  p.variant,
                  p.baseline,
                  addedInstructions,
                ),
              ),
            ),
          ),
        ]),
      ),
      '',
    );
  }
  return out;
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
  if (m.scrape === undefined || m.scrape.length === 0) return [];
  const library = m.scrape.filter((s) => s.name === 'nestjs-metrics');
  const worst = library
    .filter((s) => !s.gzip)
    .reduce((a, b) => (b.cpuMicrosPerLine > a.cpuMicrosPerLine ? b : a));
  const series = worst.series.toLocaleString('en-US');
  checks.push({
    name: `scrape, ${series} series of any kind (CPU, worst kind and format, no gzip)`,
    measured: `${fixed(worst.cpuMicrosPerLine, 2)} µs/line (${worst.kind}, ${worst.format})`,
    budget: `≤ ${BUDGET.maxScrapeMicrosPerLine} µs/line`,
    pass: worst.cpuMicrosPerLine <= BUDGET.maxScrapeMicrosPerLine,
  });
  return [
    '## Scrape cost',
    '',
    `${series} series of each kind, one registry per kind in the module (default process metrics off, but on in the mix): the request families (routes × 4 statuses, two of them errors); a MetricsService counter, gauge and histogram (the module's buckets); @Timed/@Counted on ${(worst.series / 4).toLocaleString('en-US')} methods, each called to succeed and to fail; and a mix, a fifth of each. Each registry rendered by the scrape endpoint's renderer (\`renderExpositionChunks\`, then the body as one buffer, gzipped with async zlib when asked) and, for reference, by prom-client's own \`registry.metrics()\`; median of ${worst.scrapes} scrapes. CPU: \`process.cpuUsage()\` (every thread, gzip's included) around the scrapes ÷ scrapes ÷ lines. Longest block: the longest gap between two \`setImmediate\` ticks during a scrape.`,
    '',
    table(
      [
        'registry',
        'renderer',
        'format',
        'gzip',
        'sample lines',
        'MB',
        'scrape ms',
        'CPU µs per line',
        'longest block ms (median / worst)',
      ],
      m.scrape.map((s) => [
        s.kind,
        s.name,
        s.format,
        s.gzip ? 'yes' : 'no',
        s.lines.toLocaleString('en-US'),
        fixed(s.bytes / MB, 1),
        fixed(s.scrapeMs, 1),
        fixed(s.cpuMicrosPerLine, 2),
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
  const instructions = m.instructions ?? [];
  const countedRoutes = ROUTES.filter((r) =>
    instructions.some((s) => s.route === r.name),
  );
  const countedVariants = VARIANTS.filter(
    (v) =>
      !v.diagnostic &&
      v.id !== 'bare' &&
      instructions.some((s) => s.variant === v.id),
  );
  if (countedRoutes.length > 0 && countedVariants.length > 0) {
    out.push(
      'User-space instructions of the server per request (independent of machine load; not time): added thousands vs bare Nest and the ratio (medians of paired rounds):',
      '',
      table(
        ['route', 'bare Nest', ...countedVariants.map((v) => v.label)],
        countedRoutes.map((route) => [
          `${route.method} ${route.path}`,
          `${thousands(
            median(
              instructions
                .filter((s) => s.route === route.name && s.variant === 'bare')
                .map((s) => s.instructionsPerRequest),
            ),
          )}k`,
          ...countedVariants.map((v) => {
            const added = median(
              paired(instructions, route.name, v.id, 'bare', addedInstructions),
            );
            const r = median(
              paired(instructions, route.name, v.id, 'bare', instructionRatio),
            );
            return `${signedThousands(added)}k, ${fixed(r, 3)}`;
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
    ...instructionsSection(options, m),
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
