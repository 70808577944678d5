/** Command-line options of `npm run bench`. */
export interface BenchOptions {
  quick: boolean;
  rounds: number;
  /** Seconds per measured window. */
  duration: number;
  /** Seconds of warm-up per variant and route before the first round. */
  warmup: number;
  connections: number;
  variants: string[] | undefined;
  routes: string[] | undefined;
  diagnostics: boolean;
  parts: Set<Part>;
  memoryRequests: number;
  /** What counts instructions: `perf` (hardware counters) or `callgrind`; `undefined` picks perf where it works. */
  instructionCounter: InstructionCounterName | undefined;
  /** Requests counted per instruction measurement (one server, one route, one round); `undefined`: the counter's default. */
  instructionRequests: number | undefined;
  /** Rounds of the instructions part (at least 3 unless quick: counts are steady, but a median needs them). */
  instructionRounds: number;
  /** Share of the memory test's requests sent to distinct random paths. */
  randomShare: number;
  profile: boolean;
  profileSeconds: number;
  out: string;
  updateReadme: boolean;
}

export type InstructionCounterName = 'perf' | 'callgrind';

export type Part =
  | 'load'
  | 'instructions'
  | 'recorder'
  | 'scrape'
  | 'memory'
  | 'collector'
  | 'transports'
  | 'decorators';
const PARTS: readonly Part[] = [
  'load',
  'instructions',
  'recorder',
  'scrape',
  'memory',
  'collector',
  'transports',
  'decorators',
];

export const USAGE = `npm run bench -- [options]

  --quick                 short windows and few requests, to check the harness (numbers are not representative)
  --rounds N              measured rounds; each runs every variant once per route (default 5, quick 2)
  --duration S            seconds per measured window (default 5, quick 0.5)
  --warmup S              warm-up seconds per variant and route (default 3, quick 0.25)
  --connections N         autocannon connections (default 10)
  --variants a,b          only these variants (bare is always included)
  --routes a,b            only these routes (static, param, post, error; quick: static, post)
  --no-diagnostics        leave out the diagnostic variants (quick leaves them out)
  --only a,b              only these parts: load, instructions, recorder, scrape, memory, collector,
                          transports (rpc over Redis, ws, BullMQ: needs Redis at 127.0.0.1:6379),
                          decorators (@Timed/@Counted beside nestjs-otel)
  --instruction-counter perf|callgrind
                          what the instructions part counts with (default: perf where its hardware
                          counters work, else valgrind's callgrind)
  --instruction-requests N
                          requests counted per server, route and round by the instructions part
                          (perf: default 20000, quick 5000; callgrind: default 3000, quick 200)
  --instruction-rounds N  rounds of the instructions part (default 3, at least 3; quick 1). perf:
                          a fresh server per variant and route; callgrind: a fresh server per
                          variant, every route counted in it, main variants only unless --variants
                          (quick: bare Nest and nestjs-metrics on the first route)
  --memory-requests N     requests of the memory test (default 1000000, quick 5000)
  --profile               instead of the benchmark: CPU-profile nestjs-metrics under load on the param route
  --profile-seconds S     seconds of profiled load (default 20, quick 5)
  --out FILE              where the markdown goes (default bench/RESULTS.md)
  --update-readme         also put the summary table into README.md (Performance section)`;

export function parseOptions(argv: readonly string[]): BenchOptions {
  const quick = argv.includes('--quick');
  const value = (name: string): string | undefined => {
    for (let i = 0; i < argv.length; i++) {
      if (argv[i] === name) return argv[i + 1];
      if (argv[i].startsWith(`${name}=`)) return argv[i].slice(name.length + 1);
    }
    return undefined;
  };
  const number = (name: string, fallback: number): number => {
    const raw = value(name);
    if (raw === undefined) return fallback;
    const parsed = Number(raw.replace(/_/g, ''));
    if (!Number.isFinite(parsed) || parsed <= 0) {
      throw new Error(`${name} must be a positive number; got "${raw}"`);
    }
    return parsed;
  };
  const wholeNumber = (name: string, fallback: number): number => {
    const parsed = number(name, fallback);
    if (!Number.isInteger(parsed)) {
      throw new Error(`${name} must be a whole number; got ${parsed}`);
    }
    return parsed;
  };
  const list = (name: string): string[] | undefined =>
    value(name)
      ?.split(',')
      .map((item) => item.trim())
      .filter((item) => item !== '');
  const only = list('--only');
  for (const part of only ?? []) {
    if (!PARTS.includes(part as Part)) {
      throw new Error(
        `--only: unknown part "${part}"; known: ${PARTS.join(', ')}`,
      );
    }
  }
  const requestsFlag = value('--instruction-requests');
  const instructionRequests =
    requestsFlag === undefined
      ? undefined
      : Math.round(number('--instruction-requests', 0));
  const instructionRounds = Math.round(
    number('--instruction-rounds', quick ? 1 : 3),
  );
  if (instructionRounds < 3 && !quick) {
    throw new Error(
      `--instruction-rounds must be at least 3 (a median of paired rounds); got ${instructionRounds}`,
    );
  }
  const counter = value('--instruction-counter');
  if (counter !== undefined && counter !== 'perf' && counter !== 'callgrind') {
    throw new Error(
      `--instruction-counter must be perf or callgrind; got "${counter}"`,
    );
  }
  return {
    quick,
    rounds: wholeNumber('--rounds', quick ? 2 : 5),
    duration: number('--duration', quick ? 0.5 : 5),
    warmup: number('--warmup', quick ? 0.25 : 3),
    connections: number('--connections', 10),
    variants: list('--variants'),
    // Quick only checks the harness: two routes (a GET and the POST with a body) keep it short.
    routes: list('--routes') ?? (quick ? ['static', 'post'] : undefined),
    diagnostics: !quick && !argv.includes('--no-diagnostics'),
    parts: new Set((only ?? PARTS) as Part[]),
    memoryRequests: Math.round(
      number('--memory-requests', quick ? 5_000 : 1_000_000),
    ),
    instructionCounter: counter,
    instructionRequests,
    instructionRounds,
    randomShare: 0.1,
    profile: argv.includes('--profile'),
    profileSeconds: number('--profile-seconds', quick ? 5 : 20),
    out: value('--out') ?? 'bench/RESULTS.md',
    updateReadme: argv.includes('--update-readme'),
  };
}
