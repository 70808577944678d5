import {
  invalid,
  resolveBoolean,
  resolveObject,
  resolveSeconds,
} from '../options/option-checks.js';

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

const GPU_KEYS = new Set(['command', 'timeoutSeconds', 'cacheSeconds']);

export function resolveGpuMetrics(
  value: unknown,
): ResolvedGpuMetrics | undefined {
  if (value === undefined || value === false) return undefined;
  const given =
    value === true
      ? {}
      : resolveObject(
          value,
          'gpuMetrics',
          GPU_KEYS,
          'true, false or { command?, timeoutSeconds?, cacheSeconds? }',
        );
  const { command = 'nvidia-smi' } = given;
  if (typeof command !== 'string' || command.trim() === '')
    throw invalid('gpuMetrics.command', 'a non-empty string', command);
  const seconds = (key: 'timeoutSeconds' | 'cacheSeconds', fallback: number) =>
    Math.round(
      resolveSeconds(given[key], `gpuMetrics.${key}`, fallback) * 1000,
    );
  return {
    command,
    timeoutMs: seconds('timeoutSeconds', 2),
    cacheMs: seconds('cacheSeconds', 5),
  };
}
