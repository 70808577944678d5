import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import * as prettier from 'prettier';
import { ROUTES, type BenchRoute } from './app.js';
import type { LoadSummary } from './ipc.js';
import { ROOT } from './library.js';
import type {
  CountCheck,
  InstructionSample,
  InstructionSettings,
  Measurements,
  MemoryResult,
  RoundOrder,
  Sample,
} from './measurements.js';
import type { RecorderResult, ScrapeResult } from './micro.js';
import { collectorTable, type CollectorResult } from './collector.js';
import {
  handlerContextMarkdown,
  type HandlerContextResult,
} from './handler-context.js';
import {
  callgrindUnavailableReason,
  CallgrindServer,
  valgrindVersion,
} from './callgrind.js';
import {
  CUSTOM_KEYS,
  CUSTOM_ROUTE,
  CUSTOM_SERIES_PREFIXES,
} from './custom-series.js';
import {
  loadAverage,
  otherCpuShare,
  readCpu,
  type CpuReading,
} from './machine-load.js';
import { parseOptions, USAGE, type BenchOptions } from './options.js';
import { runLogErrorsBench } from './log-errors.js';
import {
  InstructionCounter,
  perfUnavailableReason,
  perfVersion,
} from './perf.js';
import { BenchServer, LoadGenerator, runJson } from './processes.js';
import { profile } from './profile.js';
import { report, summary } from './report.js';
import { VARIANTS, type Variant } from './variants.js';

function log(message: string): void {
  process.stderr.write(`${message}\n`);
}

function selectVariants(options: BenchOptions): Variant[] {
  const wanted = options.variants;
  for (const id of wanted ?? []) {
    if (!VARIANTS.some((v) => v.id === id)) {
      throw new Error(
        `--variants: unknown "${id}"; known: ${VARIANTS.map((v) => v.id).join(', ')}`,
      );
    }
  }
  return VARIANTS.filter(
    (v) =>
      v.id === 'bare' ||
      (wanted === undefined
        ? options.diagnostics || !v.diagnostic
        : wanted.includes(v.id)),
  );
}

function selectRoutes(options: BenchOptions): BenchRoute[] {
  const wanted = options.routes;
  for (const name of wanted ?? []) {
    if (!ROUTES.some((r) => r.name === name)) {
      throw new Error(
        `--routes: unknown "${name}"; known: ${ROUTES.map((r) => r.name).join(', ')}`,
      );
    }
  }
  return ROUTES.filter((r) => wanted === undefined || wanted.includes(r.name));
}

/** A load whose responses are not all the expected status measures something else: stop. */
function checkStatuses(
  load: LoadSummary,
  expected: number,
  where: string,
): void {
  const unexpected = Object.entries(load.statuses).filter(
    ([status]) => Number(status) !== expected,
  );
  if (unexpected.length > 0 || load.requests === 0) {
    throw new Error(
      `${where}: expected every response to be ${expected}; got ${JSON.stringify(load.statuses)}`,
    );
  }
}

/** The variants in round `round` on the `k`-th route: rotated by one each round and route. */
function rotated<T>(items: readonly T[], round: number, k: number): T[] {
  const shift = (round + k) % items.length;
  return [...items.slice(shift), ...items.slice(0, shift)];
}

/** Series in an exposition whose lines begin with one of `prefixes`. */
function countSeries(text: string, prefixes: readonly string[]): number {
  let series = 0;
  for (const line of text.split('\n')) {
    if (prefixes.some((prefix) => line.startsWith(prefix))) series++;
  }
  return series;
}

/** Sums `requests_total` (unprefixed, as the bench app configures it) in an exposition. */
function countRequests(text: string): { total: number; series: number } {
  let total = 0;
  let series = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith('requests_total{')) continue;
    total += Number(line.slice(line.lastIndexOf(' ') + 1));
    series++;
  }
  return { total, series };
}

async function scrape(url: string): Promise<string> {
  const response = await fetch(`${url}/metrics`);
  return response.text();
}

async function measureLoad(
  options: BenchOptions,
  loader: LoadGenerator,
): Promise<{
  samples: Sample[];
  countChecks: CountCheck[];
  orders: RoundOrder[];
}> {
  const variants = selectVariants(options);
  const routes = selectRoutes(options);
  log(
    `load: ${variants.length} variants x ${routes.length} routes x ${options.rounds} rounds of ${options.duration} s`,
  );
  const servers = new Map<string, BenchServer>();
  for (const variant of variants) {
    servers.set(variant.id, await BenchServer.start(variant.id));
  }
  const received = new Map<string, number>();
  const windows = new Map<string, number>();

  const window = async (
    variant: Variant,
    route: BenchRoute,
    seconds: number,
  ): Promise<Omit<Sample, 'round'>> => {
    const server = servers.get(variant.id)!;
    // The bench's own processes: their CPU is not "other" load.
    const pids = [server.child.pid!, loader.child.pid!, process.pid];
    const before = await server.usage();
    const cpuBefore: CpuReading = readCpu(pids);
    const load = await loader.run({
      url: server.url,
      connections: options.connections,
      duration: seconds,
      requests: [route],
    });
    const cpuAfter = readCpu(pids);
    const after = await server.usage();
    checkStatuses(load, route.status, `${variant.id} ${route.name}`);
    received.set(variant.id, (received.get(variant.id) ?? 0) + load.requests);
    windows.set(variant.id, (windows.get(variant.id) ?? 0) + 1);
    return {
      route: route.name,
      variant: variant.id,
      requests: load.requests,
      requestsPerSecond: load.requests / load.durationSeconds,
      p50Ms: load.latencyMs.p50,
      p99Ms: load.latencyMs.p99,
      cpuMicrosPerRequest: (after.cpuMicros - before.cpuMicros) / load.requests,
      otherCpuShare: otherCpuShare(cpuBefore, cpuAfter),
    };
  };

  for (const route of routes) {
    for (const variant of variants) {
      log(`  warm-up ${variant.id} ${route.name}`);
      await window(variant, route, options.warmup);
    }
  }
  const samples: Sample[] = [];
  const orders: RoundOrder[] = [];
  for (let round = 0; round < options.rounds; round++) {
    for (const [k, route] of routes.entries()) {
      const order = rotated(variants, round, k);
      orders.push({
        round,
        route: route.name,
        variants: order.map((v) => v.id),
      });
      for (const variant of order) {
        const sample = {
          round,
          ...(await window(variant, route, options.duration)),
        };
        samples.push(sample);
        log(
          `  round ${round + 1}/${options.rounds} ${route.name.padEnd(6)} ${variant.id.padEnd(28)} ${sample.requestsPerSecond.toFixed(0).padStart(6)} req/s ${sample.cpuMicrosPerRequest.toFixed(1).padStart(6)} µs CPU/req, others ${(sample.otherCpuShare * 100).toFixed(0).padStart(3)}% of the machine`,
        );
      }
    }
  }

  const countChecks: CountCheck[] = [];
  for (const variant of variants) {
    if (!variant.id.startsWith('metrics')) continue;
    const server = servers.get(variant.id)!;
    countChecks.push({
      variant: variant.id,
      counted: countRequests(await scrape(server.url)).total,
      received: received.get(variant.id) ?? 0,
      windows: windows.get(variant.id) ?? 0,
      slack: options.connections * (windows.get(variant.id) ?? 0),
    });
  }
  for (const server of servers.values()) await server.stop();
  return { samples, countChecks, orders };
}

/** One count of the instructions part, logged as it is taken. */
function instructionSample(
  round: number,
  rounds: number,
  route: BenchRoute,
  variant: Variant,
  load: LoadSummary,
  instructions: number,
): InstructionSample {
  const sample: InstructionSample = {
    round,
    route: route.name,
    variant: variant.id,
    requests: load.requests,
    instructions,
    instructionsPerRequest: instructions / load.requests,
  };
  log(
    `  round ${round + 1}/${rounds} ${route.name.padEnd(6)} ${variant.id.padEnd(28)} ${(sample.instructionsPerRequest / 1000).toFixed(1).padStart(7)}k instructions/req`,
  );
  return sample;
}

/** The instructions part with the counter asked for (or perf where it works, else callgrind), or why it cannot run. */
async function measureInstructions(
  options: BenchOptions,
  loader: LoadGenerator,
): Promise<
  | {
      samples: InstructionSample[];
      settings: InstructionSettings;
      perfReason?: string;
    }
  | string
> {
  const wanted = options.instructionCounter;
  if (wanted === 'callgrind') {
    const reason = callgrindUnavailableReason();
    return reason ?? measureInstructionsWithCallgrind(options, loader);
  }
  const perfReason = await perfUnavailableReason();
  if (perfReason === undefined) {
    return measureInstructionsWithPerf(options, loader);
  }
  if (wanted === 'perf') return `perf: ${perfReason}`;
  const callgrindReason = callgrindUnavailableReason();
  if (callgrindReason !== undefined) {
    return `perf: ${perfReason}; callgrind: ${callgrindReason}`;
  }
  log(
    `instructions: perf is not usable (${perfReason}); counting with callgrind`,
  );
  return {
    ...(await measureInstructionsWithCallgrind(options, loader)),
    perfReason,
  };
}

/** perf: a fresh server per variant, route and round, warmed up, then counted by `perf stat -p`. */
async function measureInstructionsWithPerf(
  options: BenchOptions,
  loader: LoadGenerator,
): Promise<{ samples: InstructionSample[]; settings: InstructionSettings }> {
  const variants = selectVariants(options);
  const routes = selectRoutes(options);
  const rounds = options.instructionRounds;
  const requests =
    options.instructionRequests ?? (options.quick ? 5_000 : 20_000);
  // Enough for the JIT to settle on the route's hot paths before counting.
  const warmup = Math.max(options.quick ? 2_000 : 5_000, requests >> 1);
  const settings: InstructionSettings = {
    counter: 'perf',
    requests,
    warmup,
    instrumentedWarmup: 0,
    rounds,
    version: await perfVersion(),
  };
  log(
    `instructions: ${variants.length} variants x ${routes.length} routes x ${rounds} rounds of ${requests} requests, a fresh server each`,
  );
  const samples: InstructionSample[] = [];
  for (let round = 0; round < rounds; round++) {
    for (const [k, route] of routes.entries()) {
      for (const variant of rotated(variants, round, k)) {
        const server = await BenchServer.start(variant.id);
        try {
          const warm = await loader.run({
            url: server.url,
            connections: options.connections,
            amount: warmup,
            requests: [route],
          });
          checkStatuses(warm, route.status, `${variant.id} ${route.name}`);
          const counter = await InstructionCounter.attach(server.child.pid!);
          let load: LoadSummary;
          try {
            load = await loader.run({
              url: server.url,
              connections: options.connections,
              amount: requests,
              requests: [route],
            });
          } catch (error) {
            counter.kill();
            throw error;
          }
          const instructions = await counter.stop();
          checkStatuses(load, route.status, `${variant.id} ${route.name}`);
          samples.push(
            instructionSample(
              round,
              rounds,
              route,
              variant,
              load,
              instructions,
            ),
          );
        } finally {
          await server.stop();
        }
      }
    }
  }
  return { samples, settings };
}

/**
 * callgrind: per round, a fresh server per variant (in a rotated order) under valgrind, warmed up
 * uninstrumented on every route, then instrumented; each route (in a rotated order) is warmed up
 * again and its requests counted between a zero and a dump.
 */
async function measureInstructionsWithCallgrind(
  options: BenchOptions,
  loader: LoadGenerator,
): Promise<{ samples: InstructionSample[]; settings: InstructionSettings }> {
  // Main variants only unless asked for: each costs about a minute per round under callgrind.
  const variants = selectVariants(options).filter(
    (v) =>
      !v.diagnostic ||
      (options.variants !== undefined && options.variants.includes(v.id)),
  );
  // Quick checks the harness only: bare Nest and the module, on one route.
  const quickVariants = options.quick
    ? variants.filter((v) => v.id === 'bare' || v.id === 'metrics')
    : variants;
  const routes = selectRoutes(options).slice(0, options.quick ? 1 : undefined);
  const rounds = options.instructionRounds;
  const requests = options.instructionRequests ?? (options.quick ? 200 : 3_000);
  const settings: InstructionSettings = {
    counter: 'callgrind',
    requests,
    warmup: options.quick ? 300 : 3_000,
    instrumentedWarmup: options.quick ? 100 : 1_000,
    rounds,
    version: valgrindVersion(),
  };
  log(
    `instructions (callgrind): ${quickVariants.length} variants x ${routes.length} routes x ${rounds} rounds of ${requests} requests, a fresh server per variant and round`,
  );
  const samples: InstructionSample[] = [];
  const run = async (
    url: string,
    route: (typeof routes)[number],
    amount: number,
    where: string,
  ): Promise<LoadSummary> => {
    const load = await loader.run({
      url,
      connections: options.connections,
      amount,
      requests: [route],
    });
    checkStatuses(load, route.status, where);
    return load;
  };
  for (let round = 0; round < rounds; round++) {
    for (const variant of rotated(quickVariants, round, 0)) {
      const server = await CallgrindServer.start(variant.id);
      try {
        for (const route of routes) {
          await run(server.url, route, settings.warmup, variant.id);
        }
        await server.instrument();
        for (const route of rotated(routes, round, 0)) {
          const where = `${variant.id} ${route.name}`;
          await run(server.url, route, settings.instrumentedWarmup, where);
          await server.zero();
          const load = await run(server.url, route, requests, where);
          const instructions = await server.count();
          samples.push(
            instructionSample(
              round,
              rounds,
              route,
              variant,
              load,
              instructions,
            ),
          );
        }
      } finally {
        await server.stop();
      }
    }
  }
  return { samples, settings };
}

async function measureMemory(
  options: BenchOptions,
  loader: LoadGenerator,
  variant: string,
): Promise<MemoryResult> {
  const requests = options.memoryRequests;
  const every = Math.round(1 / options.randomShare);
  const custom = variant === 'metrics-custom-series';
  const routes = custom ? [...ROUTES, CUSTOM_ROUTE] : ROUTES;
  log(
    `memory: ${variant}, ${requests} requests, 1 in ${every} to a distinct random path`,
  );
  const server = await BenchServer.start(variant, ['--expose-gc']);
  // Long enough for V8's young generation and the JIT to reach their working size (and, with
  // custom series, for every one of them to exist before the first reading).
  const warmupRequests = options.quick ? 2_000 : 100_000;
  let prewarmed = 0;
  if (custom) {
    // One call per label value first: every custom series exists before the warm-up reading.
    const prewarm = await loader.run({
      url: server.url,
      connections: options.connections,
      amount: CUSTOM_KEYS,
      requests: [CUSTOM_ROUTE],
    });
    prewarmed = prewarm.requests;
  }
  const warm = await loader.run({
    url: server.url,
    connections: options.connections,
    amount: warmupRequests,
    requests: routes,
  });
  const warmUsage = await server.usage(true);
  const started = performance.now();
  const load = await loader.run({
    url: server.url,
    connections: options.connections,
    amount: requests,
    requests: routes,
    randomPathEvery: every,
    // Half match the param route with a new id, half match no route at all.
    randomPathPrefixes: ['/items/', '/nope/'],
  });
  const seconds = (performance.now() - started) / 1000;
  const afterUsage = await server.usage(true);
  const exposition = variant.startsWith('metrics')
    ? await scrape(server.url)
    : undefined;
  const counted =
    exposition === undefined ? undefined : countRequests(exposition);
  await server.stop();
  return {
    variant,
    paths: routes.map((r) => r.path),
    customSeries:
      custom && exposition !== undefined
        ? countSeries(exposition, CUSTOM_SERIES_PREFIXES)
        : undefined,
    warmupRequests,
    requests: load.requests,
    randomPaths: load.randomPaths,
    rssWarmBytes: warmUsage.rssBytes,
    rssAfterBytes: afterUsage.rssBytes,
    heapWarmBytes: warmUsage.heapUsedBytes,
    heapAfterBytes: afterUsage.heapUsedBytes,
    heapTotalWarmBytes: warmUsage.heapTotalBytes,
    heapTotalAfterBytes: afterUsage.heapTotalBytes,
    countedRequests: counted?.total,
    requestSeries: counted?.series,
    receivedRequests: prewarmed + warm.requests + load.requests,
    seconds,
  };
}

const SUMMARY_START = '<!-- bench:summary:start -->';
const SUMMARY_END = '<!-- bench:summary:end -->';

/** Writes markdown as the project's prettier formats it, so `npm run lint` stays green. */
async function writeMarkdown(file: string, text: string): Promise<void> {
  const config = (await prettier.resolveConfig(file)) ?? {};
  writeFileSync(
    file,
    await prettier.format(text, { ...config, filepath: file }),
  );
}

/** Replaces the text between the README's summary markers. */
async function updateReadme(text: string): Promise<void> {
  const file = path.join(ROOT, 'README.md');
  const readme = readFileSync(file, 'utf8');
  const start = readme.indexOf(SUMMARY_START);
  const end = readme.indexOf(SUMMARY_END);
  if (start === -1 || end < start) {
    throw new Error(`README.md has no ${SUMMARY_START} ... ${SUMMARY_END}`);
  }
  await writeMarkdown(
    file,
    `${readme.slice(0, start + SUMMARY_START.length)}\n\n${text}\n\n${readme.slice(end)}`,
  );
}

async function main(): Promise<void> {
  if (process.argv.includes('--help')) {
    log(USAGE);
    return;
  }
  if (process.argv.includes('--log-push')) {
    const { logPushBench } = await import('./log-push.js');
    process.stdout.write(
      `${await logPushBench(process.argv.includes('--quick'))}\n`,
    );
    return;
  }
  if (process.argv[2] === 'log-errors') {
    process.stdout.write(`${await runLogErrorsBench()}\n`);
    return;
  }
  const options = parseOptions(process.argv.slice(2));
  const startedAt = performance.now();
  const elapsed = (): number => (performance.now() - startedAt) / 1000;
  const part = (name: string): void =>
    log(`[${elapsed().toFixed(0).padStart(4)} s] ${name}`);
  const loader = await LoadGenerator.start();
  try {
    if (options.profile) {
      process.stdout.write(`${await profile(options, loader)}\n`);
      return;
    }
    const measurements: Measurements = {
      samples: [],
      countChecks: [],
      orders: [],
      loadAverageStart: loadAverage(),
    };
    if (options.parts.has('recorder')) {
      part('recorder');
      log('recorder: in-process loop over started()/record()/ended()');
      measurements.recorder = await runJson<RecorderResult>('micro.js', [
        'recorder',
        ...(options.quick ? ['--quick'] : []),
      ]);
    }
    if (options.parts.has('scrape')) {
      part('scrape');
      log('scrape: 10,000 series');
      measurements.scrape = await runJson<ScrapeResult[]>('micro.js', [
        'scrape',
        ...(options.quick ? ['--quick'] : []),
      ]);
    }
    if (options.parts.has('load')) {
      part('load');
      Object.assign(measurements, await measureLoad(options, loader));
    }
    if (options.parts.has('instructions')) {
      part('instructions');
      const counted = await measureInstructions(options, loader);
      if (typeof counted === 'string') {
        measurements.instructionsSkipped = counted;
        log(`instructions: skipped: ${counted}`);
      } else {
        measurements.instructions = counted.samples;
        measurements.instructionSettings = counted.settings;
        measurements.instructionsPerfReason = counted.perfReason;
      }
    }
    if (options.parts.has('memory')) {
      part('memory');
      measurements.memory = [];
      // bare Nest under the same load is the control: what RSS does without any metrics.
      for (const variant of ['metrics', 'metrics-custom-series', 'bare']) {
        measurements.memory.push(await measureMemory(options, loader, variant));
      }
    }
    const sections: string[] = [];
    if (options.parts.has('collector')) {
      part('collector');
      log('collector: ns per call, enabled vs disabled');
      const collector = collectorTable(
        await runJson<CollectorResult>('collector.js', [
          ...(options.quick ? ['--quick'] : []),
        ]),
      );
      sections.push(collector);
    }
    if (options.parts.has('recorder')) {
      part('handler context');
      log('handler context: requests with handlerLabels on and off');
      const handlerContext = await runJson<HandlerContextResult>(
        'handler-context.js',
        options.quick ? ['--quick'] : [],
      );
      sections.push(handlerContextMarkdown(handlerContext));
    }
    if (options.parts.has('transports')) {
      part('transports');
      log(
        'transports: rpc, ws and BullMQ handlers with and without the module',
      );
      const { runTransportsBench } = await import('./transports.js');
      sections.push(await runTransportsBench(options.quick));
    }
    if (options.parts.has('decorators')) {
      part('decorators');
      log('decorators: ns per call of @Timed/@Counted and nestjs-otel');
      const { runDecoratorsBench } = await import('./decorators.js');
      sections.push(await runDecoratorsBench(options.quick));
    }
    measurements.loadAverageEnd = loadAverage();
    measurements.elapsedSeconds = elapsed();
    const markdown = [report(options, measurements), ...sections].join('\n\n');
    const out = path.resolve(ROOT, options.out);
    await writeMarkdown(out, markdown);
    process.stdout.write(`${markdown}\n`);
    log(`written to ${path.relative(process.cwd(), out) || out}`);
    if (options.updateReadme) {
      await updateReadme(summary(options, measurements));
      log('README.md: Performance summary updated');
    }
  } finally {
    loader.stop();
    log(`elapsed: ${formatSeconds(elapsed())}`);
  }
}

/** `95 s` or `12 min 5 s`. */
function formatSeconds(seconds: number): string {
  const whole = Math.round(seconds);
  return whole < 120
    ? `${whole} s`
    : `${Math.floor(whole / 60)} min ${whole % 60} s`;
}

await main();
