import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BenchServer } from './processes.js';

// Instruction counts of a bench server run under valgrind's callgrind, for machines without
// hardware counters. The server starts uninstrumented (valgrind alone, several times faster), is
// warmed up, then instrumented; each count is the callgrind total between a zero and a dump, taken
// with `callgrind_control` while the server keeps running.

/** Undefined when valgrind's callgrind and callgrind_control are installed; otherwise why not. */
export function callgrindUnavailableReason(): string | undefined {
  for (const [command, args] of [
    ['valgrind', ['--version']],
    ['callgrind_control', ['--version']],
  ] as const) {
    const result = spawnSync(command, args, { stdio: 'ignore' });
    if (result.error !== undefined) {
      return `${command}: ${result.error.message}`;
    }
  }
  return undefined;
}

/** `valgrind --version`, for the report. */
export function valgrindVersion(): string {
  return (
    spawnSync('valgrind', ['--version'], { encoding: 'utf8' }).stdout?.trim() ??
    'valgrind'
  );
}

function control(args: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      'callgrind_control',
      args,
      { timeout: 120_000 },
      (error, stdout) => (error ? reject(error) : resolve(stdout)),
    );
  });
}

/** The total `Ir` of a callgrind dump (its `totals:` line, else `summary:`). */
function dumpTotal(file: string): number {
  const text = readFileSync(file, 'utf8');
  const line =
    /^totals:\s*(\d+)/m.exec(text) ?? /^summary:\s*(\d+)/m.exec(text);
  if (line === null) throw new Error(`${file}: no totals or summary line`);
  return Number(line[1]);
}

/** A bench server under callgrind, instrumentation off until `instrument()`. */
export class CallgrindServer {
  private dumps = 0;

  private constructor(
    readonly server: BenchServer,
    private readonly directory: string,
  ) {}

  static async start(variant: string): Promise<CallgrindServer> {
    const directory = mkdtempSync(path.join(os.tmpdir(), 'bench-callgrind-'));
    const server = await BenchServer.start(
      variant,
      [],
      [
        'valgrind',
        '--tool=callgrind',
        '--instr-atstart=no',
        `--callgrind-out-file=${path.join(directory, 'callgrind.out')}`,
        // valgrind's own messages only on error.
        '--quiet',
      ],
    );
    return new CallgrindServer(server, directory);
  }

  get url(): string {
    return this.server.url;
  }

  private get pid(): string {
    return String(this.server.child.pid);
  }

  /** Turns instrumentation on (valgrind then re-translates the code it runs). */
  async instrument(): Promise<void> {
    await control(['--instr=on', this.pid]);
  }

  /** Zeroes the counters. */
  async zero(): Promise<void> {
    await control(['--zero', this.pid]);
  }

  /** Dumps the counters (which zeroes them) and returns the instructions since the last zero or dump. */
  async count(): Promise<number> {
    await control(['--dump', this.pid]);
    this.dumps++;
    const file = readdirSync(this.directory).find((name) =>
      name.endsWith(`.${this.dumps}`),
    );
    if (file === undefined) {
      throw new Error(
        `callgrind dump ${this.dumps} not found in ${this.directory}`,
      );
    }
    const total = dumpTotal(path.join(this.directory, file));
    rmSync(path.join(this.directory, file));
    return total;
  }

  async stop(): Promise<void> {
    try {
      await this.server.stop();
    } finally {
      rmSync(this.directory, { recursive: true, force: true });
    }
  }
}
