import { execFile } from 'node:child_process';

/** The fields asked of `nvidia-smi --query-gpu`, in this order. */
export const GPU_QUERY_FIELDS = [
  'index',
  'uuid',
  'name',
  'utilization.gpu',
  'memory.used',
  'memory.total',
  'temperature.gpu',
  'power.draw',
] as const;

export interface GpuReading {
  readonly index: string;
  readonly uuid: string;
  readonly name: string;
  /** 0..1; absent when the GPU reports `[N/A]` or `[Not Supported]`. */
  readonly utilization?: number;
  readonly memoryUsedBytes?: number;
  readonly memoryTotalBytes?: number;
  readonly temperatureCelsius?: number;
  readonly powerWatts?: number;
}

const MIB = 1024 * 1024;

/** One value of the CSV: a number, or `undefined` for `[N/A]`, `[Not Supported]` and the like. */
function numberOf(field: string | undefined): number | undefined {
  const value = field?.trim();
  if (value === undefined || value === '' || value.startsWith('['))
    return undefined;
  const number = Number(value);
  return Number.isFinite(number) ? number : undefined;
}

/** The output of `nvidia-smi --query-gpu=… --format=csv,noheader,nounits`, one GPU a line. */
export function parseNvidiaSmi(output: string): GpuReading[] {
  const gpus: GpuReading[] = [];
  for (const line of output.split('\n')) {
    if (line.trim() === '') continue;
    const fields = line.split(',').map((field) => field.trim());
    if (fields.length < GPU_QUERY_FIELDS.length) continue;
    // A name may contain commas: the fields after it are the last five.
    const tail = fields.slice(-5);
    const name = fields.slice(2, fields.length - 5).join(', ');
    const [utilization, used, total, temperature, power] = tail.map(numberOf);
    gpus.push({
      index: fields[0],
      uuid: fields[1],
      name,
      utilization: utilization === undefined ? undefined : utilization / 100,
      memoryUsedBytes: used === undefined ? undefined : used * MIB,
      memoryTotalBytes: total === undefined ? undefined : total * MIB,
      temperatureCelsius: temperature,
      powerWatts: power,
    });
  }
  return gpus;
}

/** What happened to the last run of `nvidia-smi`, for the one log line per change. */
export type GpuReadOutcome =
  | { readonly kind: 'ok' }
  | { readonly kind: 'missing' }
  | { readonly kind: 'failed'; readonly reason: string };

export interface GpuReaderSettings {
  readonly command: string;
  readonly timeoutMs: number;
  /** How long a reading is served before `nvidia-smi` runs again. */
  readonly cacheMs: number;
  readonly onOutcome: (outcome: GpuReadOutcome) => void;
  readonly now?: () => number;
}

/**
 * Runs `nvidia-smi` with `execFile` (never a shell, never synchronously) at most once per
 * `cacheMs`, killing it at `timeoutMs`; concurrent scrapes share one run. A missing command is
 * looked for again only once per cache period, like any other reading.
 */
export class GpuReader {
  private last?: { at: number; reading: Promise<GpuReading[] | undefined> };

  constructor(private readonly settings: GpuReaderSettings) {}

  read(): Promise<GpuReading[] | undefined> {
    const now = (this.settings.now ?? Date.now)();
    if (this.last && now - this.last.at < this.settings.cacheMs)
      return this.last.reading;
    const reading = this.run();
    this.last = { at: now, reading };
    return reading;
  }

  private run(): Promise<GpuReading[] | undefined> {
    const { command, timeoutMs, onOutcome } = this.settings;
    return new Promise((resolve) => {
      const child = execFile(
        command,
        [
          `--query-gpu=${GPU_QUERY_FIELDS.join(',')}`,
          '--format=csv,noheader,nounits',
        ],
        {
          timeout: timeoutMs,
          killSignal: 'SIGKILL',
          windowsHide: true,
          env: process.env,
        },
        (error, stdout) => {
          if (error) {
            const code = (error as NodeJS.ErrnoException).code;
            if (code === 'ENOENT') onOutcome({ kind: 'missing' });
            else
              onOutcome({
                kind: 'failed',
                reason: error.killed
                  ? `no answer within ${timeoutMs} ms (killed)`
                  : `exited with ${String(code ?? error.message)}`,
              });
            resolve(undefined);
            return;
          }
          onOutcome({ kind: 'ok' });
          resolve(parseNvidiaSmi(stdout));
        },
      );
      // A run in progress never keeps the process alive on its own.
      child.unref();
      for (const pipe of [child.stdout, child.stderr])
        (pipe as unknown as { unref?: () => void } | null)?.unref?.();
    });
  }
}
