import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type {
  LoadCommand,
  LoadSummary,
  ServerCommand,
  ServerMessage,
} from './ipc.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));

/** The core the servers run on and the core the load generator runs on. */
export const SERVER_CORE = 1;
export const LOAD_CORE = 0;

/** `taskset` pins a process to a core; without it (macOS, Windows) processes float. */
export const PINNING =
  process.platform === 'linux' &&
  spawnSync('taskset', ['-V'], { stdio: 'ignore' }).status === 0;

const children = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of children) child.kill();
});

/**
 * Starts `node <script>` from this directory, on `core` when pinning is available, with IPC;
 * `wrapper` runs it under another program (valgrind).
 */
export function startNode(
  script: string,
  args: readonly string[],
  core: number,
  nodeOptions: readonly string[] = [],
  stdout: 'inherit' | 'pipe' = 'inherit',
  wrapper: readonly string[] = [],
): ChildProcess {
  const command = [
    ...wrapper,
    process.execPath,
    ...nodeOptions,
    path.join(HERE, script),
    ...args,
  ];
  const child = PINNING
    ? spawn('taskset', ['-c', String(core), ...command], {
        stdio: ['ignore', stdout, 'inherit', 'ipc'],
      })
    : spawn(command[0], command.slice(1), {
        stdio: ['ignore', stdout, 'inherit', 'ipc'],
      });
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

/** Resolves with the first IPC message that `accept` takes, or rejects when the child exits first. */
export function nextMessage<T>(
  child: ChildProcess,
  accept: (message: unknown) => message is T,
  what: string,
  timeoutMs: number,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const onMessage = (message: unknown): void => {
      if (!accept(message)) return;
      cleanup();
      resolve(message);
    };
    const onExit = (code: number | null): void => {
      cleanup();
      reject(new Error(`${what}: the process exited (code ${code})`));
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`${what}: no answer in ${timeoutMs} ms`));
    }, timeoutMs);
    const cleanup = (): void => {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
    };
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

let nextId = 1;

/** Server CPU time (user + system, µs), RSS and heap at one instant. */
export interface Usage {
  cpuMicros: number;
  rssBytes: number;
  heapUsedBytes: number;
  heapTotalBytes: number;
  monotonicMicros: number;
}

/** A bench server process (one variant). */
export class BenchServer {
  private constructor(
    readonly variant: string,
    readonly child: ChildProcess,
    readonly url: string,
  ) {}

  static async start(
    variant: string,
    nodeOptions: readonly string[] = [],
    wrapper: readonly string[] = [],
  ): Promise<BenchServer> {
    const child = startNode(
      'server.js',
      [variant],
      SERVER_CORE,
      nodeOptions,
      'inherit',
      wrapper,
    );
    const ready = await nextMessage(
      child,
      (m): m is Extract<ServerMessage, { type: 'ready' }> =>
        (m as ServerMessage).type === 'ready',
      `server ${variant}`,
      // Under valgrind a Nest app takes several seconds to start.
      wrapper.length > 0 ? 300_000 : 60_000,
    );
    return new BenchServer(variant, child, `http://127.0.0.1:${ready.port}`);
  }

  async usage(gc = false): Promise<Usage> {
    const id = nextId++;
    const command: ServerCommand = { type: 'usage', id, gc };
    this.child.send(command);
    return nextMessage(
      this.child,
      (m): m is Extract<ServerMessage, { type: 'usage' }> =>
        (m as ServerMessage).type === 'usage' &&
        (m as { id: number }).id === id,
      `server ${this.variant}`,
      30_000,
    );
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    const command: ServerCommand = { type: 'exit' };
    this.child.send(command);
    await exited;
  }
}

/** The autocannon process. */
export class LoadGenerator {
  private constructor(readonly child: ChildProcess) {}

  static async start(): Promise<LoadGenerator> {
    const child = startNode('load.js', [], LOAD_CORE);
    await nextMessage(
      child,
      (m): m is { type: 'ready' } => (m as { type?: string }).type === 'ready',
      'load generator',
      30_000,
    );
    return new LoadGenerator(child);
  }

  async run(command: Omit<LoadCommand, 'id'>): Promise<LoadSummary> {
    const id = nextId++;
    this.child.send({ ...command, id });
    const limitMs =
      command.duration !== undefined
        ? command.duration * 1000 + 60_000
        : 3_600_000;
    const answer = await nextMessage(
      this.child,
      (m): m is LoadSummary | { id: number; error: string } =>
        (m as { id?: number }).id === id,
      'load generator',
      limitMs,
    );
    if ('error' in answer) throw new Error(`autocannon: ${answer.error}`);
    return answer;
  }

  stop(): void {
    this.child.disconnect();
  }
}

/** Runs `node <script> <args>` pinned to the server core and parses the JSON line it prints. */
export async function runJson<T>(
  script: string,
  args: readonly string[],
): Promise<T> {
  const child = startNode(script, args, SERVER_CORE, [], 'pipe');
  let output = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    output += chunk;
  });
  const code = await new Promise<number | null>((resolve) =>
    child.once('exit', resolve),
  );
  if (code !== 0) throw new Error(`${script} ${args.join(' ')} failed`);
  const lines = output.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]) as T;
}
