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

/**
 * Runs the nestjs-metrics server under `node --cpu-prof`, loads the param route, and sums the
 * self time of every function over the measured window only.
 */
export async function profile(
  options: BenchOptions,
  loader: LoadGenerator,
): Promise<string> {
  const dir = path.join(ROOT, '.bench', 'profile');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const route = ROUTES.find((r) => r.name === 'param')!;
  const server = await BenchServer.start('metrics', [
    '--cpu-prof',
    `--cpu-prof-dir=${dir}`,
  ]);
  process.stderr.write(
    `profile: nestjs-metrics, ${options.profileSeconds} s on ${route.method} ${route.path}\n`,
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
    throw new Error('no profile samples in the measured window');
  }
  const requests = load.requests;
  const buckets = [...byFunction.values()];
  const busy = buckets
    .filter((b) => b.owner !== '(idle)')
    .reduce((sum, b) => sum + b.micros, 0);
  const perRequest = (micros: number): string => fixed(micros / requests, 2);
  const share = (micros: number): string =>
    `${fixed((micros / busy) * 100, 1)}%`;

  const byOwner = new Map<string, number>();
  for (const b of buckets)
    byOwner.set(b.owner, (byOwner.get(b.owner) ?? 0) + b.micros);
  const ownerRows = [...byOwner.entries()]
    .filter(([owner]) => owner !== '(idle)')
    .sort((a, b) => b[1] - a[1])
    .map(
      ([owner, micros]) =>
        `| ${owner} | ${perRequest(micros)} | ${share(micros)} |`,
    );

  const functionRows = (list: Bucket[], limit: number): string[] =>
    list
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
  const library = buckets.filter((b) => b.owner === 'nestjs-metrics');
  const pipeline = buckets.filter(isInterceptorPipeline);
  const sum = (list: Bucket[]): number =>
    list.reduce((s, b) => s + b.micros, 0);

  return [
    '# CPU profile: nestjs-metrics, param route',
    '',
    `${requests} requests in ${fixed(load.durationSeconds, 1)} s on \`${route.method} ${route.path}\`, ${options.connections} connections, under \`node --cpu-prof\` (the profiler slows everything down; compare shares, not absolute µs). Self time over the measured window only; busy = not idle. process.cpuUsage() over the window: ${fixed((after.cpuMicros - before.cpuMicros) / requests, 1)} µs per request.`,
    '',
    '## Self time by owner',
    '',
    '| owner | self µs/req | share of busy |',
    '| --- | ---: | ---: |',
    ...ownerRows,
    '',
    `## nestjs-metrics functions (${perRequest(sum(library))} µs/req in all)`,
    '',
    ...functionHeader,
    ...functionRows(library, 20),
    '',
    `## Nest interceptor pipeline and RxJS (${perRequest(sum(pipeline))} µs/req in all)`,
    '',
    ...functionHeader,
    ...functionRows(pipeline, 20),
    '',
    '## Top functions overall',
    '',
    ...functionHeader,
    ...functionRows(
      buckets.filter(
        (b) => !META.has(b.owner) || b.owner === '(garbage collector)',
      ),
      30,
    ),
    '',
    `Profile: ${path.relative(ROOT, path.join(dir, file))}`,
  ].join('\n');
}
