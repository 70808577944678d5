import os from 'node:os';
import { ROUTES } from './app.js';
import { packageVersion } from './library.js';
import { CUSTOM_MAX_SERIES, CUSTOM_SERIES } from './custom-series.js';
import { MACHINE_LOAD_AVAILABLE, type LoadAverage } from './machine-load.js';
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
  /** CPU per request above bare Nest's, in % of bare Nest's, on every route (median of paired rounds). */
  maxAddedCpuPercent: 1.5,
  maxScrapeMicrosPerLine: 0.3,
  /** In each memory scenario. */
  maxRssGrowthMegabytes: 10,
};

/** A window in which other processes used more of the machine than this is marked noisy. */
const NOISY_SHARE = 0.05;

const MB = 1024 * 1024;

/** A markdown table: the first `textColumns` columns left-aligned, the rest (numbers) right-aligned. */
function table(header: string[], rows: string[][], textColumns = 1): string {
  const line = (cells: string[]): string => `| ${cells.join(' | ')} |`;
  return [
    line(header),
    line(header.map((h, i) => (i < textColumns ? '---' : '---:'))),
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
/** CPU per request above bare Nest's in the same round, in % of bare Nest's. */
const addedCpuPercent = (v: Sample, b: Sample): number =>
  (v.cpuMicrosPerRequest / b.cpuMicrosPerRequest - 1) * 100;

/** `+1.2%` (a sign always: the added share can be negative). */
const signedPercent = (value: number, digits = 1): string =>
  Number.isFinite(value)
    ? `${value >= 0 ? '+' : ''}${value.toFixed(digits)}%`
    : 'n/a';
/** `min / median / max` of `values`. */
const spread = (values: readonly number[], digits: number): string =>
  `${fixed(min(values), digits)} / ${fixed(median(values), digits)} / ${fixed(max(values), digits)}`;
const percentSpread = (values: readonly number[]): string =>
  `${signedPercent(min(values))} / ${signedPercent(median(values))} / ${signedPercent(max(values))}`;

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
  if (routes.length === 0) return out;
  const rounds = new Set(m.samples.map((s) => s.round)).size;
  out.push('## CPU per request, throughput and latency per route', '');
  out.push(
    `CPU per request is the primary figure: the server’s user + system CPU time over a window ÷ the responses received in it, min / median / max over the ${rounds} rounds. Added CPU: per round, the variant’s CPU per request ÷ bare Nest’s in the same round − 1, in %, min / median / max (the budget takes the median); and the difference in µs (median). Secondary: the req/s ratio (per round, the variant’s req/s ÷ bare Nest’s, min / median / max), req/s and latency (medians over the rounds).`,
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
      const pair = (f: (v: Sample, b: Sample) => number): number[] =>
        paired(m.samples, route.name, variant.id, 'bare', f);
      const isBare = variant.id === 'bare';
      const percents = pair(addedCpuPercent);
      rows.push([
        label(variant.id),
        spread(
          own.map((s) => s.cpuMicrosPerRequest),
          1,
        ),
        isBare ? '0' : percentSpread(percents),
        isBare ? '0' : fixed(median(pair(addedCpu)), 1),
        isBare ? '1' : spread(pair(ratio), 3),
        fixed(median(own.map((s) => s.requestsPerSecond)), 0),
        fixed(median(own.map((s) => s.p50Ms)), 2),
        fixed(median(own.map((s) => s.p99Ms)), 2),
      ]);
      if (variant.id === 'metrics') {
        const added = median(percents);
        checks.push({
          name: `added CPU per request, ${route.name}`,
          measured: `${signedPercent(added, 2)} (${fixed(median(pair(addedCpu)), 1)} µs)`,
          budget: `≤ ${BUDGET.maxAddedCpuPercent}% of bare Nest`,
          pass: added <= BUDGET.maxAddedCpuPercent,
        });
      }
    }
    out.push(
      table(
        [
          'variant',
          'CPU µs/req (min / median / max)',
          'added CPU vs bare (min / median / max)',
          'added CPU µs/req',
          'req/s ratio vs bare',
          'req/s',
          'p50 ms',
          'p99 ms',
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
    checks.push({
      name: `requests counted, ${c.variant}`,
      measured: `${c.counted} counted, ${c.received} received`,
      budget: `received to received + ${c.slack}`,
      pass: c.counted >= c.received && c.counted <= c.received + c.slack,
    });
    out.push(
      `Count check, ${c.variant}: \`requests_total\` = ${c.counted}; the load generator received ${c.received} responses over ${c.windows} windows (a window’s last in-flight responses can be served but not read, so the server may count up to connections × windows more).`,
      '',
    );
  }
  return out;
}

/** The worst window, and how many were noisy, of the load part. */
function machineLoadFigures(m: Measurements): {
  shares: number[];
  worst: Sample | undefined;
  noisy: number;
} {
  const measured = m.samples.filter((s) => Number.isFinite(s.otherCpuShare));
  let worst: Sample | undefined;
  for (const s of measured) {
    if (worst === undefined || s.otherCpuShare > worst.otherCpuShare) worst = s;
  }
  return {
    shares: measured.map((s) => s.otherCpuShare),
    worst,
    noisy: measured.filter((s) => s.otherCpuShare > NOISY_SHARE).length,
  };
}

const percentOf = (share: number): string => `${fixed(share * 100, 1)}%`;

const loadAverageText = (l: LoadAverage | undefined): string =>
  l === undefined
    ? 'n/a'
    : `${fixed(l.oneMinute, 2)} / ${fixed(l.fiveMinutes, 2)} / ${fixed(l.fifteenMinutes, 2)}`;

/** One line on how busy the machine was, for the README block. */
function machineLoadLine(m: Measurements): string {
  const { shares, worst, noisy } = machineLoadFigures(m);
  const average = `load average (1 / 5 / 15 min) ${loadAverageText(m.loadAverageStart)} at the start, ${loadAverageText(m.loadAverageEnd)} at the end`;
  if (worst === undefined) return `Machine: ${average}.`;
  return `Machine: ${average}; other processes used ${percentOf(median(shares))} of the machine’s CPU in the median window, ${percentOf(worst.otherCpuShare)} in the worst (round ${worst.round + 1}, ${worst.route}, ${label(worst.variant)}); ${noisy} of ${shares.length} windows above ${percentOf(NOISY_SHARE)}.`;
}

function machineLoadSection(m: Measurements): string[] {
  const out = [
    '## Machine load',
    '',
    `\`os.loadavg()\` (1 / 5 / 15 min): ${loadAverageText(m.loadAverageStart)} when the run started, ${loadAverageText(m.loadAverageEnd)} when it ended (${os.cpus().length} cores).`,
    '',
  ];
  if (m.orders.length === 0) return out;
  if (!MACHINE_LOAD_AVAILABLE) {
    out.push(
      'Other processes’ share of the CPU is not measured: /proc is not readable here.',
      '',
    );
  }
  const { shares, worst, noisy } = machineLoadFigures(m);
  if (worst !== undefined) {
    out.push(
      `Other processes: per measured window, the machine’s busy CPU time (/proc/stat: user, nice, system, irq, softirq of every core) minus the CPU time of the server, the load generator and the bench runner (/proc/<pid>/stat) over the window, as a share of the machine’s capacity (all cores). Median ${percentOf(median(shares))}, worst ${percentOf(worst.otherCpuShare)} (round ${worst.round + 1}, ${worst.route}, ${label(worst.variant)}); ${noisy} of ${shares.length} windows above ${percentOf(NOISY_SHARE)}. A quiet run stays near 0%; the more other work, the less a CPU-time figure can be trusted.`,
      '',
    );
  }
  out.push(
    '### Order and load per round',
    '',
    'Each round runs every variant once per route; the order is rotated by one every round and route.',
    '',
  );
  out.push(
    table(
      ['round', 'route', 'order', 'other processes (median / max)'],
      m.orders.map((o) => {
        const windows = m.samples
          .filter(
            (s) =>
              s.round === o.round &&
              s.route === o.route &&
              Number.isFinite(s.otherCpuShare),
          )
          .map((s) => s.otherCpuShare);
        return [
          String(o.round + 1),
          o.route,
          o.variants.join(', '),
          windows.length === 0
            ? 'n/a'
            : `${percentOf(median(windows))} / ${percentOf(max(windows))}`,
        ];
      }),
      3,
    ),
    '',
  );
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

function instructionsSection(m: Measurements): string[] {
  if (m.instructionsSkipped !== undefined) {
    return [
      '## Instructions per request',
      '',
      `Not measured: no instruction counter is usable here (${m.instructionsSkipped}).`,
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
  const settings = m.instructionSettings;
  const requests = (settings?.requests ?? 0).toLocaleString('en-US');
  const common = `Unlike CPU time, the count does not depend on what else runs on the machine, so small differences show; it is not time (an instruction that misses the cache costs more than one that hits). Kernel work (sockets, TCP) is not counted. Added and ratio: per round, the variant’s count − and ÷ bare Nest’s in the same round, median. Range: min – max over the rounds, the repeatability of a count.`;
  const method =
    settings?.counter === 'callgrind'
      ? `Instructions executed by the server process (all its threads, garbage collection and JIT compilation included), counted by valgrind’s callgrind (${settings.version}; ${m.instructionsPerfReason === undefined ? 'asked for with `--instruction-counter callgrind`' : `Linux \`perf\` hardware counters are not usable here: ${m.instructionsPerfReason}`}), ÷ the responses received, in thousands. Per round, each variant (rotated order) starts a fresh server under \`valgrind --tool=callgrind --instr-atstart=no\`, which is warmed up with ${settings.warmup.toLocaleString('en-US')} requests per route uninstrumented; then instrumentation is turned on (\`callgrind_control --instr=on\`) and, route by route in a rotated order, ${settings.instrumentedWarmup.toLocaleString('en-US')} more requests warm it up again, the counters are zeroed (\`--zero\`), ${requests} requests run and the count is dumped (\`--dump\`). ${rounds} rounds. Under valgrind the server runs some 50 times slower, so V8’s time-driven heuristics (GC scheduling, tier-up) see another timing than at full speed and a count moves by a few percent from one round to the next (see the range): compare variants by the median of paired rounds, not with perf counts.`
      : `User-space instructions retired by the server process (all its threads, garbage collection included; \`perf stat -e instructions:u -p <pid>\`${settings === undefined ? '' : `, ${settings.version}`}) over ${requests} requests ÷ the responses received, in thousands. Each measurement starts a fresh server, warms it up with ${(settings?.warmup ?? 0).toLocaleString('en-US')} requests, then counts; ${rounds} rounds run every variant once per route in a rotated order.`;
  const out = ['## Instructions per request', '', `${method} ${common}`, ''];
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
  const plain = library.filter((s) => !s.gzip);
  if (plain.length === 0) {
    checks.push({
      name: 'scrape',
      measured: 'no nestjs-metrics scrape without gzip was measured',
      budget: `≤ ${BUDGET.maxScrapeMicrosPerLine} µs/line`,
      pass: false,
    });
    return [];
  }
  const worst = plain.reduce((a, b) =>
    b.cpuMicrosPerLine > a.cpuMicrosPerLine ? b : a,
  );
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

const growth = (r: MemoryResult): number =>
  (r.rssAfterBytes - r.rssWarmBytes) / MB;

/** The scenario a memory result belongs to. */
function memoryScenario(r: MemoryResult): string {
  if (r.variant === 'metrics-custom-series') {
    return `nestjs-metrics + ${CUSTOM_SERIES.toLocaleString('en-US')} custom series`;
  }
  return r.variant === 'bare' ? 'bare Nest (control)' : 'nestjs-metrics';
}

function memorySection(m: Measurements, checks: Check[]): string[] {
  const results = m.memory;
  if (results === undefined || results.length === 0) return [];
  for (const r of results) {
    if (r.variant === 'bare') continue;
    if (r.countedRequests !== undefined)
      checks.push({
        name: `requests counted, memory, ${memoryScenario(r)}`,
        measured: `${r.countedRequests} counted, ${r.receivedRequests} received`,
        budget: 'equal',
        pass: r.countedRequests === r.receivedRequests,
      });
    if (r.customSeries !== undefined)
      checks.push({
        name: `custom series present, memory, ${memoryScenario(r)}`,
        measured: String(r.customSeries),
        budget: String(CUSTOM_SERIES),
        pass: r.customSeries === CUSTOM_SERIES,
      });
    checks.push({
      name: `RSS growth after ${r.requests.toLocaleString('en-US')} requests, ${memoryScenario(r)}`,
      measured: `${fixed(growth(r), 1)} MB`,
      budget: `≤ ${BUDGET.maxRssGrowthMegabytes} MB`,
      pass: growth(r) <= BUDGET.maxRssGrowthMegabytes,
    });
  }
  const first = results[0];
  const out = [
    '## Memory',
    '',
    `Each server after ${first.warmupRequests.toLocaleString('en-US')} warm-up requests (the four routes), then after ${first.requests.toLocaleString('en-US')} more, ${first.randomPaths.toLocaleString('en-US')} of them to distinct random paths (half \`/items/<random>\`, half \`/nope/<random>\`, which match no route). Both readings follow a forced GC. Bare Nest under the same load is the control. The custom-series scenario adds \`GET /custom\` to the routes the load cycles through: each call touches one of 2,500 label values of a MetricsService counter, gauge and histogram and calls one of 1,250 classes whose method is \`@Timed()\` and \`@Counted()\` (1,250 label sets each), ${CUSTOM_SERIES.toLocaleString('en-US')} custom series in all, every one created before the warm-up (2,500 calls of \`/custom\`) and touched again throughout the test (\`maxSeries: ${CUSTOM_MAX_SERIES}\`).`,
    '',
    table(
      [
        'scenario',
        'RSS MB after warm-up',
        'RSS MB after the test',
        'RSS growth MB',
        'heap used growth MB',
        'heap total growth MB',
        'seconds',
      ],
      results.map((r) => [
        r.variant === 'bare' ? memoryScenario(r) : `**${memoryScenario(r)}**`,
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
  for (const r of results) {
    if (r.countedRequests === undefined) continue;
    const custom =
      r.customSeries === undefined
        ? ''
        : ` Custom series after the test: ${r.customSeries.toLocaleString('en-US')} (expected ${CUSTOM_SERIES.toLocaleString('en-US')}${r.customSeries === CUSTOM_SERIES ? ', all present' : ', **differs**'}).`;
    out.push(
      `${memoryScenario(r)}: \`requests_total\` = ${r.countedRequests.toLocaleString('en-US')} in ${r.requestSeries} series; the load generator received ${r.receivedRequests.toLocaleString('en-US')} responses${r.countedRequests === r.receivedRequests ? ' (equal)' : ' (**differs**)'}.${custom}`,
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
    `${new Date().toISOString().slice(0, 10)}, ${os.cpus()[0]?.model.trim() ?? 'unknown CPU'}, Node.js ${process.version}${options.quick ? ' (quick run, not representative)' : ''}.`,
    '',
  ];
  if (routes.length > 0) {
    out.push(
      `${machineLoadLine(m)}`,
      '',
      'Added CPU per request vs bare Nest, in % of bare Nest’s and in µs (medians of paired rounds), and the req/s ratio:',
      '',
      table(
        ['route', 'bare Nest CPU µs/req', ...variants.map((v) => v.label)],
        routes.map((route) => [
          `${route.method} ${route.path}`,
          fixed(
            median(
              m.samples
                .filter((s) => s.route === route.name && s.variant === 'bare')
                .map((s) => s.cpuMicrosPerRequest),
            ),
            1,
          ),
          ...variants.map((v) => {
            const pair = (f: (v: Sample, b: Sample) => number): number =>
              median(paired(m.samples, route.name, v.id, 'bare', f));
            return `${signedPercent(pair(addedCpuPercent))} (${fixed(pair(addedCpu), 1)} µs), ${fixed(pair(ratio), 3)}`;
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
    const counter =
      m.instructionSettings?.counter === 'callgrind'
        ? 'Instructions of the server per request, counted by callgrind'
        : 'User-space instructions of the server per request (perf)';
    out.push(
      `${counter} (independent of machine load; not time): added thousands vs bare Nest and the ratio (medians of paired rounds):`,
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
    ...machineLoadSection(m),
    ...instructionsSection(m),
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
    `- Node.js ${process.version}, @nestjs/core ${packageVersion('@nestjs/core')}, @nestjs/platform-express ${packageVersion('@nestjs/platform-express')}, express ${packageVersion('express')}, prom-client ${packageVersion('prom-client')}, express-prom-bundle ${packageVersion('express-prom-bundle')}, @willsoto/nestjs-prometheus ${packageVersion('@willsoto/nestjs-prometheus')}, nestjs-otel ${packageVersion('nestjs-otel')} (declares Node.js ≥ 22; runs here), @opentelemetry/sdk-metrics ${packageVersion('@opentelemetry/sdk-metrics')}, autocannon ${packageVersion('autocannon')}`,
    `- Peers: express-prom-bundle (method, path and status labels, a \`normalizePath\` rule); @willsoto/nestjs-prometheus with the usual hand-written global interceptor (a counter and a histogram by route template); nestjs-otel with \`OpenTelemetryModule.forRoot({ metrics: { hostMetrics: false } })\` and the same interceptor written on its \`MetricService\` (a counter and a histogram by route template: nestjs-otel 8 removed its \`apiMetrics\` HTTP middleware), on a global \`MeterProvider\` from @opentelemetry/sdk-metrics with a pull \`MetricReader\` (cumulative, collected only on demand, as a Prometheus exporter is; the bench never collects). Every histogram uses the same buckets.`,
    `- Load: autocannon, ${options.connections} connections, ${options.warmup} s warm-up per variant and route, then ${options.rounds} rounds of ${options.duration} s windows; each round runs every variant once per route, in an order rotated every round and route (listed under “Machine load”).`,
    PINNING
      ? `- Each server runs alone in its process pinned to core ${SERVER_CORE}, the load generator to core ${LOAD_CORE} (taskset).`
      : '- taskset is not available: processes are not pinned to cores.',
    '- CPU per request, the primary figure: the server process’s user + system CPU time over a window (`process.cpuUsage()`, read over IPC before and after) ÷ the responses received in it.',
    `- ${machineLoadLine(m)}`,
    ...(m.elapsedSeconds === undefined
      ? []
      : [`- Run time: ${fixed(m.elapsedSeconds / 60, 1)} min.`]),
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
