import { type ChildProcess, spawn, spawnSync } from 'node:child_process';

// Hardware instruction counts of one process through Linux `perf stat`: user-space instructions
// (`instructions:u`) do not depend on what else runs on the machine, unlike CPU time.

const EVENT = 'instructions:u';

/** Runs `perf <args>` and resolves with its exit code and stderr (where `perf stat` writes). */
function runPerf(
  args: readonly string[],
): Promise<{ code: number | null; stderr: string; error?: Error }> {
  return new Promise((resolve) => {
    let stderr = '';
    let child: ChildProcess;
    try {
      child = spawn('perf', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    } catch (error) {
      resolve({ code: null, stderr, error: error as Error });
      return;
    }
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    child.once('error', (error) => resolve({ code: null, stderr, error }));
    child.once('close', (code) => resolve({ code, stderr }));
  });
}

/** The count of the CSV line `perf stat -x,` printed for the event, or why there is none. */
function parseCount(stderr: string): number | string {
  const line = stderr
    .split('\n')
    .find((l) => l.split(',')[2]?.startsWith('instructions'));
  if (line === undefined) {
    return stderr.trim().split('\n').slice(-3).join(' / ') || 'no output';
  }
  const count = Number(line.split(',')[0]);
  return Number.isFinite(count) ? count : `${EVENT}: ${line.split(',')[0]}`;
}

/**
 * Undefined when `perf stat -e instructions:u -p <pid>` can count this user's processes here;
 * otherwise why not (no perf, no hardware counters in the VM, perf_event_paranoid too strict).
 */
export async function perfUnavailableReason(): Promise<string | undefined> {
  // Attach to a busy process of this user, as the measurement does (a sleeping one counts nothing).
  const target = spawn(
    process.execPath,
    ['-e', 'const end = Date.now() + 5000; while (Date.now() < end);'],
    { stdio: 'ignore' },
  );
  try {
    const result = await runPerf([
      'stat',
      '-x,',
      '-e',
      EVENT,
      '-p',
      String(target.pid),
      '--',
      'sleep',
      '0.2',
    ]);
    if (result.error !== undefined) return `perf: ${result.error.message}`;
    if (result.code !== 0) {
      return `perf stat exited with code ${result.code}: ${result.stderr.trim().split('\n')[0] ?? ''}`;
    }
    const count = parseCount(result.stderr);
    return typeof count === 'number' ? undefined : count;
  } finally {
    target.kill();
  }
}

/** `perf --version`, for the report. */
export function perfVersion(): Promise<string> {
  const result = spawnSync('perf', ['--version'], { encoding: 'utf8' });
  return Promise.resolve(result.stdout?.trim() || 'perf');
}

/** `perf stat` attached to one process, counting its user-space instructions until `stop()`. */
export class InstructionCounter {
  private constructor(
    private readonly perf: ChildProcess,
    private readonly finished: Promise<{ code: number | null; stderr: string }>,
  ) {}

  /** Attaches to `pid`; resolves once perf has had time to open its counters. */
  static async attach(pid: number): Promise<InstructionCounter> {
    const perf = spawn(
      'perf',
      ['stat', '-x,', '-e', EVENT, '-p', String(pid)],
      {
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    let stderr = '';
    perf.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    const finished = new Promise<{ code: number | null; stderr: string }>(
      (resolve, reject) => {
        perf.once('error', reject);
        perf.once('close', (code) => resolve({ code, stderr }));
      },
    );
    // perf says nothing when its counters are open: give it time before the load starts. The
    // idle server runs a few thousand instructions meanwhile, nothing next to a load's billions.
    const early = await Promise.race([
      finished,
      new Promise<undefined>((resolve) =>
        setTimeout(() => resolve(undefined), 500),
      ),
    ]);
    if (early !== undefined) {
      throw new Error(
        `perf stat -p ${pid} stopped at once: ${early.stderr.trim()}`,
      );
    }
    return new InstructionCounter(perf, finished);
  }

  /** Stops counting (SIGINT makes perf print its totals) and returns the count. */
  async stop(): Promise<number> {
    this.perf.kill('SIGINT');
    const { stderr } = await this.finished;
    const count = parseCount(stderr);
    if (typeof count !== 'number') throw new Error(`perf stat: ${count}`);
    return count;
  }

  /** Ends perf without reading it (after a failed load). */
  kill(): void {
    if (this.perf.exitCode === null) this.perf.kill();
  }
}
