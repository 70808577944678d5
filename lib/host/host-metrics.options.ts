import { invalid, resolveBoolean } from '../options/option-checks.js';

/** `gpuMetrics` after checks: how `nvidia-smi` is run. */
export interface ResolvedGpuMetrics {
  readonly command: string;
  readonly timeoutMs: number;
  readonly cacheMs: number;
}

/** `gpuMetrics` as an object: where `nvidia-smi` is and how long one run may take. */
export interface GpuMetricsOptions {
  /** The command, looked up on `PATH` unless a path. Default `nvidia-smi`. */
  command?: string;
  /** A run that takes longer is killed and the scrape has no GPU series. Default 2. */
  timeoutSeconds?: number;
  /** How long one reading is served. Default 5. */
  cacheSeconds?: number;
}

export function resolveHostMetrics(value: unknown): boolean {
  return resolveBoolean(value, 'hostMetrics', false);
}

export function resolveGpuMetrics(
  value: unknown,
): ResolvedGpuMetrics | undefined {
  if (value === undefined || value === false) return undefined;
  if (value === true) return resolveGpuMetrics({});
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw invalid(
      'gpuMetrics',
      'true, false or { command?, timeoutSeconds?, cacheSeconds? }',
      value,
    );
  const {
    command = 'nvidia-smi',
    timeoutSeconds = 2,
    cacheSeconds = 5,
    ...rest
  } = value as GpuMetricsOptions & Record<string, unknown>;
  const unknown = Object.keys(rest)[0];
  if (unknown !== undefined)
    throw invalid(
      `gpuMetrics.${unknown}`,
      'left out (unknown key; known: command, timeoutSeconds, cacheSeconds)',
      rest[unknown],
    );
  if (typeof command !== 'string' || command.trim() === '')
    throw invalid('gpuMetrics.command', 'a non-empty string', command);
  for (const [key, seconds] of [
    ['timeoutSeconds', timeoutSeconds],
    ['cacheSeconds', cacheSeconds],
  ] as const)
    if (
      typeof seconds !== 'number' ||
      !Number.isFinite(seconds) ||
      seconds <= 0
    )
      throw invalid(
        `gpuMetrics.${key}`,
        'a positive number of seconds',
        seconds,
      );
  return {
    command,
    timeoutMs: Math.round(timeoutSeconds * 1000),
    cacheMs: Math.round(cacheSeconds * 1000),
  };
}
