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
  /** Requests counted per instruction measurement (one server, one route, one round). */
  instructionRequests: number;
  /** Warm-up requests of each fresh server before perf attaches. */
  instructionWarmup: number;
  /** Rounds of the instructions part (at least 3: counts are steady, but a median needs them). */
  instructionRounds: number;
  /** Share of the memory test's requests sent to distinct random paths. */
  randomShare: number;
  profile: boolean;
  profileSeconds: number;
  out: string;
  updateReadme: boolean;
}

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
  --rounds N              measured rounds; each runs every variant once per route (default 5, quick 3)
  --duration S            seconds per measured window (default 5, quick 1)
  --warmup S              warm-up seconds per variant and route (default 3, quick 1)
  --connections N         autocannon connections (default 10)
  --variants a,b          only these variants (bare is always included)
  --routes a,b            only these routes (static, param, post, error)
  --no-diagnostics        leave out the diagnostic variants
  --only a,b              only these parts: load, instructions, recorder, scrape, memory, collector,
                          transports (rpc over Redis, ws, BullMQ: needs Redis at 127.0.0.1:6379),
                          decorators (@Timed/@Counted beside nestjs-otel)
  --instruction-requests N
                          requests counted per server, route and round by the instructions part
                          (default 20000, quick 5000; needs Linux perf with hardware counters)
  --instruction-rounds N  rounds of the instructions part, each a fresh server per variant and
                          route (default 3, at least 3)
  --memory-requests N     requests of the memory test (default 1000000, quick 20000)
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
  const instructionRequests = Math.round(
    number('--instruction-requests', quick ? 5_000 : 20_000),
  );
  const instructionRounds = Math.round(number('--instruction-rounds', 3));
  if (instructionRounds < 3) {
    throw new Error(
      `--instruction-rounds must be at least 3 (a median of paired rounds); got ${instructionRounds}`,
    );
  }
  return {
    quick,
    rounds: number('--rounds', quick ? 3 : 5),
    duration: number('--duration', quick ? 1 : 5),
    warmup: number('--warmup', quick ? 1 : 3),
    connections: number('--connections', 10),
    variants: list('--variants'),
    routes: list('--routes'),
    diagnostics: !argv.includes('--no-diagnostics'),
    parts: new Set((only ?? PARTS) as Part[]),
    memoryRequests: Math.round(
      number('--memory-requests', quick ? 20_000 : 1_000_000),
    ),
    instructionRequests,
    // Enough for the JIT to settle on the route's hot paths before counting.
    instructionWarmup: Math.max(
      quick ? 2_000 : 5_000,
      instructionRequests >> 1,
    ),
    instructionRounds,
    randomShare: 0.1,
    profile: argv.includes('--profile'),
    profileSeconds: number('--profile-seconds', quick ? 5 : 20),
    out: value('--out') ?? 'bench/RESULTS.md',
    updateReadme: argv.includes('--update-readme'),
  };
}
