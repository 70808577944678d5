import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));

/** A log line of a fixture app, printed as JSON by its logger. */
export interface FixtureLog {
  level: string;
  message: string;
}

/** How a fixture process ended. */
export interface FixtureExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A fixture script run as its own Node process; collects its stdout lines. */
export class FixtureProcess {
  private output = '';
  private readonly child: ChildProcess;
  /** Resolves when the process has ended and its output is read, however it ended. */
  readonly exited: Promise<FixtureExit>;

  constructor(script: string, env: Record<string, string>) {
    this.child = spawn(process.execPath, [script], {
      cwd: root,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    this.child.stdout!.setEncoding('utf8');
    this.child.stdout!.on('data', (chunk: string) => (this.output += chunk));
    this.exited = new Promise((resolve) =>
      this.child.once('close', (code, signal) => resolve({ code, signal })),
    );
  }

  /** The lines printed so far that are not log lines. */
  get lines(): string[] {
    return this.output
      .split('\n')
      .filter((line) => line !== '' && !line.startsWith('{'));
  }

  /** The app's log lines so far. */
  get logs(): FixtureLog[] {
    return this.output
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as FixtureLog);
  }

  /** The log lines whose message matches `pattern`. */
  logsMatching(pattern: RegExp): FixtureLog[] {
    return this.logs.filter((line) => pattern.test(line.message));
  }

  /** Resolves with the first printed line matching `pattern`; rejects if the process ends first. */
  async printed(pattern: RegExp): Promise<RegExpExecArray> {
    let ended = false;
    void this.exited.then(() => (ended = true));
    for (;;) {
      for (const line of this.lines) {
        const match = pattern.exec(line);
        if (match) return match;
      }
      if (ended)
        throw new Error(
          `the fixture ended without printing ${pattern}; output:\n${this.output}`,
        );
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  kill(signal: NodeJS.Signals): void {
    this.child.kill(signal);
  }

  /** Ends the process if it still runs (cleanup after a failed test). */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill('SIGKILL');
    await this.exited;
  }
}
