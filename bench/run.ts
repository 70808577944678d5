import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import * as prettier from 'prettier';
import { ROUTES, type BenchRoute } from './app.js';
import type { LoadSummary } from './ipc.js';
import { ROOT } from './library.js';
import type {
  CountCheck,
  InstructionSample,
  Measurements,
  MemoryResult,
  Sample,
} from './measurements.js';
import type { RecorderResult, ScrapeResult } from './micro.js';
import { collectorTable, type CollectorResult } from './collector.js';
import {
  handlerContextMarkdown,
  type HandlerContextResult,
} from './handler-context.js';
import { parseOptions, USAGE, type BenchOptions } from './options.js';
import { runLogErrorsBench } from './log-errors.js';
import { InstructionCounter, perfUnavailableReason } from './perf.js';
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
): Promise<{ samples: Sample[]; countChecks: CountCheck[] }> {
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
    const before = await server.usage();
    const load = await loader.run({
      url: server.url,
      connections: options.connections,
      duration: seconds,
      requests: [route],
    });
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
    };
  };

  for (const route of routes) {
    for (const variant of variants) {
      log(`  warm-up ${variant.id} ${route.name}`);
      await window(variant, route, options.warmup);
    }
  }
  const samples: Sample[] = [];
  for (let round = 0; round < options.rounds; round++) {
    for (const [k, route] of routes.entries()) {
      const shift = (round + k) % variants.length;
      const order = [...variants.slice(shift), ...variants.slice(0, shift)];
      for (const variant of order) {
        const sample = {
          round,
          ...(await window(variant, route, options.duration)),
        };
        samples.push(sample);
        log(
          `  round ${round + 1}/${options.rounds} ${route.name.padEnd(6)} ${variant.id.padEnd(28)} ${sample.requestsPerSecond.toFixed(0).padStart(6)} req/s ${sample.cpuMicrosPerRequest.toFixed(1).padStart(6)} µs CPU/req`,
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
    });
  }
  for (const server of servers.values()) await server.stop();
  return { samples, countChecks };
}

async function measureInstructions(
  options: BenchOptions,
  loader: LoadGenerator,
): Promise<InstructionSample[]> {
  const variants = selectVariants(options);
  const routes = selectRoutes(options);
  const rounds = options.instructionRounds;
  const requests = options.instructionRequests;
  log(
    `instructions: ${variants.length} variants x ${routes.length} routes x ${rounds} rounds of ${requests} requests, a fresh server each`,
  );
  const samples: InstructionSample[] = [];
  for (let round = 0; round < rounds; round++) {
    for (const [k, route] of routes.entries()) {
      const shift = (round + k) % variants.length;
      const order = [...variants.slice(shift), ...variants.slice(0, shift)];
      for (const variant of order) {
        const server = await BenchServer.start(variant.id);
        try {
          const warm = await loader.run({
            url: server.url,
            connections: options.connections,
            amount: options.instructionWarmup,
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
          const sample: InstructionSample = {
            round,
            route: route.name,
            variant: variant.id,
            requests: load.requests,
            instructions,
            instructionsPerRequest: instructions / load.requests,
          };
          samples.push(sample);
          log(
            `  round ${round + 1}/${rounds} ${route.name.padEnd(6)} ${variant.id.padEnd(28)} ${(sample.instructionsPerRequest / 1000).toFixed(1).padStart(7)}k instructions/req`,
          );
        } finally {
          await server.stop();
        }
      }
    }
  }
  return samples;
}

async function measureMemory(
  options: BenchOptions,
  loader: LoadGenerator,
  variant: string,
): Promise<MemoryResult> {
  const requests = options.memoryRequests;
  const every = Math.round(1 / options.randomShare);
  log(
    `memory: ${variant}, ${requests} requests, 1 in ${every} to a distinct random path`,
  );
  const server = await BenchServer.start(variant, ['--expose-gc']);
  // Long enough for V8's young generation and the JIT to reach their working size.
  const warmupRequests = options.quick ? 20_000 : 100_000;
  const warm = await loader.run({
    url: server.url,
    connections: options.connections,
    amount: warmupRequests,
    requests: ROUTES,
  });
  const warmUsage = await server.usage(true);
  const started = performance.now();
  const load = await loader.run({
    url: server.url,
    connections: options.connections,
    amount: requests,
    requests: ROUTES,
    randomPathEvery: every,
    // Half match the param route with a new id, half match no route at all.
    randomPathPrefixes: ['/items/', '/nope/'],
  });
  const seconds = (performance.now() - started) / 1000;
  const afterUsage = await server.usage(true);
  const counted = variant.startsWith('metrics')
    ? countRequests(await scrape(server.url))
    : undefined;
  await server.stop();
  return {
    variant,
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
    receivedRequests: warm.requests + load.requests,
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
  const loader = await LoadGenerator.start();
  try {
    if (options.profile) {
      process.stdout.write(`${await profile(options, loader)}\n`);
      return;
    }
    const measurements: Measurements = { samples: [], countChecks: [] };
    if (options.parts.has('recorder')) {
      log('recorder: in-process loop over started()/record()/ended()');
      measurements.recorder = await runJson<RecorderResult>('micro.js', [
        'recorder',
        ...(options.quick ? ['--quick'] : []),
      ]);
    }
    if (options.parts.has('scrape')) {
      log('scrape: 10,000 series');
      measurements.scrape = await runJson<ScrapeResult[]>('micro.js', [
        'scrape',
        ...(options.quick ? ['--quick'] : []),
      ]);
    }
    if (options.parts.has('load')) {
      Object.assign(measurements, await measureLoad(options, loader));
    }
    if (options.parts.has('instructions')) {
      const reason = await perfUnavailableReason();
      if (reason === undefined) {
        measurements.instructions = await measureInstructions(options, loader);
      } else {
        measurements.instructionsSkipped = reason;
        log(
          `instructions: skipped, hardware counters are not usable: ${reason}`,
        );
      }
    }
    if (options.parts.has('memory')) {
      measurements.memory = [];
      // bare Nest under the same load is the control: what RSS does without any metrics.
      for (const variant of ['metrics', 'bare']) {
        measurements.memory.push(await measureMemory(options, loader, variant));
      }
    }
    let markdown = report(options, measurements);
    if (options.parts.has('collector')) {
      log('collector: ns per call, enabled vs disabled');
      const collector = collectorTable(
        await runJson<CollectorResult>('collector.js', [
          ...(options.quick ? ['--quick'] : []),
        ]),
      );
      markdown += `\n\n${collector}\n`;
    }
    if (options.parts.has('recorder')) {
      log('handler context: requests with handlerLabels on and off');
      const handlerContext = await runJson<HandlerContextResult>(
        'handler-context.js',
        options.quick ? ['--quick'] : [],
      );
      markdown += `\n\n${handlerContextMarkdown(handlerContext)}\n`;
    }
    if (options.parts.has('transports')) {
      log(
        'transports: rpc, ws and BullMQ handlers with and without the module',
      );
      const { runTransportsBench } = await import('./transports.js');
      markdown += `\n\n${await runTransportsBench(options.quick)}\n`;
    }
    if (options.parts.has('decorators')) {
      log('decorators: ns per call of @Timed/@Counted and nestjs-otel');
      const { runDecoratorsBench } = await import('./decorators.js');
      markdown += `\n\n${await runDecoratorsBench(options.quick)}\n`;
    }
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
  }
}

await main();
