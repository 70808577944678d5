import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { ROUTES } from './app.js';
import { ROOT } from './library.js';
import type { BenchOptions } from './options.js';
import { BenchServer, type LoadGenerator } from './processes.js';
import { fixed } from './stats.js';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}

interface CpuProfile {
  nodes: { id: number; callFrame: CallFrame }[];
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

interface Bucket {
  name: string;
  file: string;
  owner: string;
  micros: number;
}

const META = new Set(['(idle)', '(program)', '(garbage collector)', '(root)']);

/** Who a script belongs to: the library's dist, a package, Node core, the bench app, or V8. */
function ownerOf(frame: CallFrame): string {
  const url = frame.url;
  if (url === '') {
    return META.has(frame.functionName) ? frame.functionName : 'V8 builtins';
  }
  if (url.startsWith('node:')) return 'Node.js core';
  const file = url.startsWith('file://') ? new URL(url).pathname : url;
  const modules = file.lastIndexOf('/node_modules/');
  if (modules !== -1) {
    const parts = file.slice(modules + '/node_modules/'.length).split('/');
    return parts[0].startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0];
  }
  if (file.startsWith(path.join(ROOT, 'dist') + '/')) return 'nestjs-metrics';
  if (file.startsWith(path.join(ROOT, '.bench') + '/')) return 'bench app';
  return 'other';
}

function shortFile(frame: CallFrame): string {
  const url = frame.url;
  if (url === '' || url.startsWith('node:')) return url;
  const file = url.startsWith('file://') ? new URL(url).pathname : url;
  const modules = file.lastIndexOf('/node_modules/');
  if (modules !== -1) return file.slice(modules + '/node_modules/'.length);
  return path.relative(ROOT, file);
}

/** Nest's part of running a handler through interceptors (what a global interceptor adds). */
function isInterceptorPipeline(bucket: Bucket): boolean {
  return (
    bucket.owner === 'rxjs' ||
    (bucket.owner === '@nestjs/core' &&
      /interceptors\/|router-execution-context|execution-context-host|context-utils|external-context/.test(
        bucket.file,
      ))
  );
}

interface VariantProfile {
  variant: string;
  requests: number;
  seconds: number;
  cpuMicrosPerRequest: number;
  buckets: Bucket[];
  file: string;
}

/**
 * Runs one variant's server under `node --cpu-prof`, loads the param route, and sums the self
 * time of every function over the measured window only.
 */
async function profileVariant(
  variant: string,
  options: BenchOptions,
  loader: LoadGenerator,
): Promise<VariantProfile> {
  const dir = path.join(ROOT, '.bench', 'profile', variant);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const route = ROUTES.find((r) => r.name === 'param')!;
  const server = await BenchServer.start(variant, [
    '--cpu-prof',
    `--cpu-prof-dir=${dir}`,
  ]);
  process.stderr.write(
    `profile: ${variant}, ${options.profileSeconds} s on ${route.method} ${route.path}\n`,
  );
  await loader.run({
    url: server.url,
    connections: options.connections,
    duration: options.warmup,
    requests: [route],
  });
  const before = await server.usage();
  const load = await loader.run({
    url: server.url,
    connections: options.connections,
    duration: options.profileSeconds,
    requests: [route],
  });
  const after = await server.usage();
  await server.stop();

  const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
  if (file === undefined) throw new Error(`no .cpuprofile in ${dir}`);
  const cpu = JSON.parse(
    readFileSync(path.join(dir, file), 'utf8'),
  ) as CpuProfile;
  const frames = new Map(cpu.nodes.map((n) => [n.id, n.callFrame]));
  const byFunction = new Map<string, Bucket>();
  let time = cpu.startTime;
  let windowMicros = 0;
  for (let i = 0; i < cpu.samples.length; i++) {
    time += cpu.timeDeltas[i];
    // A sample stands for the time until the next one.
    const micros = cpu.timeDeltas[i + 1] ?? 0;
    if (time < before.monotonicMicros || time > after.monotonicMicros) continue;
    const frame = frames.get(cpu.samples[i])!;
    const key = `${frame.functionName}@${frame.url}:${frame.lineNumber}`;
    let bucket = byFunction.get(key);
    if (bucket === undefined) {
      bucket = {
        name: frame.functionName || '(anonymous)',
        file: `${shortFile(frame)}:${frame.lineNumber + 1}`,
        owner: ownerOf(frame),
        micros: 0,
      };
      byFunction.set(key, bucket);
    }
    bucket.micros += micros;
    windowMicros += micros;
  }
  if (windowMicros === 0) {
    throw new Error(`${variant}: no profile samples in the measured window`);
  }
  return {
    variant,
    requests: load.requests,
    seconds: load.durationSeconds,
    cpuMicrosPerRequest: (after.cpuMicros - before.cpuMicros) / load.requests,
    buckets: [...byFunction.values()],
    file: path.relative(ROOT, path.join(dir, file)),
  };
}

const sum = (list: readonly Bucket[]): number =>
  list.reduce((s, b) => s + b.micros, 0);

/**
 * Profiles nestjs-metrics and bare Nest on the param route and reports where the library's time
 * goes: its own functions, Nest's interceptor pipeline, and what grows elsewhere (GC, events).
 */
export async function profile(
  options: BenchOptions,
  loader: LoadGenerator,
): Promise<string> {
  const metrics = await profileVariant('metrics', options, loader);
  const bare = await profileVariant('bare', options, loader);
  const busyOf = (p: VariantProfile): number =>
    sum(p.buckets.filter((b) => b.owner !== '(idle)'));
  const busy = busyOf(metrics);
  const perRequest = (micros: number, p = metrics): string =>
    fixed(micros / p.requests, 2);
  const share = (micros: number): string =>
    `${fixed((micros / busy) * 100, 1)}%`;

  const owners = (p: VariantProfile): Map<string, number> => {
    const byOwner = new Map<string, number>();
    for (const b of p.buckets) {
      if (b.owner !== '(idle)')
        byOwner.set(b.owner, (byOwner.get(b.owner) ?? 0) + b.micros);
    }
    return byOwner;
  };
  const metricsOwners = owners(metrics);
  const bareOwners = owners(bare);
  const ownerRows = [
    ...new Set([...metricsOwners.keys(), ...bareOwners.keys()]),
  ]
    .map((owner) => ({
      owner,
      m: (metricsOwners.get(owner) ?? 0) / metrics.requests,
      b: (bareOwners.get(owner) ?? 0) / bare.requests,
    }))
    .sort((x, y) => y.m - x.m)
    .map(
      (r) =>
        `| ${r.owner} | ${fixed(r.m, 2)} | ${fixed(r.b, 2)} | ${fixed(r.m - r.b, 2)} |`,
    );

  const functionRows = (list: Bucket[], limit: number): string[] =>
    [...list]
      .sort((a, b) => b.micros - a.micros)
      .slice(0, limit)
      .map(
        (b) =>
          `| ${b.name} | \`${b.file}\` | ${b.owner} | ${perRequest(b.micros)} | ${share(b.micros)} |`,
      );
  const functionHeader = [
    '| function | file | owner | self µs/req | share of busy |',
    '| --- | --- | --- | ---: | ---: |',
  ];

  // Function-level difference: what the library adds outside its own code.
  const key = (b: Bucket): string => `${b.name} ${b.file}`;
  const bareByKey = new Map(bare.buckets.map((b) => [key(b), b.micros]));
  const deltas = metrics.buckets
    .filter((b) => b.owner !== '(idle)' && b.owner !== 'nestjs-metrics')
    .map((b) => ({
      bucket: b,
      delta:
        b.micros / metrics.requests -
        (bareByKey.get(key(b)) ?? 0) / bare.requests,
    }))
    .sort((x, y) => y.delta - x.delta)
    .slice(0, 15)
    .map(
      ({ bucket, delta }) =>
        `| ${bucket.name} | \`${bucket.file}\` | ${bucket.owner} | ${fixed(delta, 2)} |`,
    );

  const library = metrics.buckets.filter((b) => b.owner === 'nestjs-metrics');
  const pipeline = metrics.buckets.filter(isInterceptorPipeline);
  const barePipeline = bare.buckets.filter(isInterceptorPipeline);
  const describe = (p: VariantProfile): string =>
    `${p.variant}: ${p.requests} requests in ${fixed(p.seconds, 1)} s, process.cpuUsage() ${fixed(p.cpuMicrosPerRequest, 1)} µs/req, sampled busy ${fixed(busyOf(p) / p.requests, 1)} µs/req (${p.file})`;

  return [
    '# CPU profile: nestjs-metrics vs bare Nest, param route',
    '',
    `\`${ROUTES.find((r) => r.name === 'param')!.path}\`, ${options.connections} connections, each server under \`node --cpu-prof\` (the profiler slows everything down: compare shares and differences, not absolute µs). Self time over the measured window only; busy = not idle.`,
    '',
    `- ${describe(metrics)}`,
    `- ${describe(bare)}`,
    '',
    '## Self time by owner (µs per request)',
    '',
    '| owner | nestjs-metrics | bare Nest | difference |',
    '| --- | ---: | ---: | ---: |',
    ...ownerRows,
    '',
    `## nestjs-metrics functions (${perRequest(sum(library))} µs/req in all)`,
    '',
    ...functionHeader,
    ...functionRows(library, 20),
    '',
    `## Nest interceptor pipeline and RxJS (${perRequest(sum(pipeline))} µs/req with the module, ${perRequest(sum(barePipeline), bare)} µs/req in bare Nest)`,
    '',
    ...functionHeader,
    ...functionRows(pipeline, 20),
    '',
    '## Largest increases outside the library (nestjs-metrics − bare Nest, µs per request)',
    '',
    '| function | file | owner | difference |',
    '| --- | --- | --- | ---: |',
    ...deltas,
    '',
  ].join('\n');
}
