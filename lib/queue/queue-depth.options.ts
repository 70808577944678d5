import {
  invalid,
  resolveObject,
  resolveSeconds,
} from '../options/option-checks.js';

/** The `queueDepth` option: how often and how long queue depths are read from Redis. */
export interface QueueDepthOptions {
  /** How long one reading serves scrapes, in seconds (0 reads at every scrape). Default 1. */
  cacheSeconds?: number;
  /** How long a scrape waits for a queue's reading before it serves the last one, in seconds. Default 0.5. */
  timeoutSeconds?: number;
}

/** `queueDepth` after defaults were merged; `undefined` when it is off. */
export interface ResolvedQueueDepthOptions {
  readonly cacheSeconds: number;
  readonly timeoutSeconds: number;
}

export const DEFAULT_QUEUE_DEPTH: ResolvedQueueDepthOptions = Object.freeze({
  cacheSeconds: 1,
  timeoutSeconds: 0.5,
});

const QUEUE_DEPTH_KEYS = new Set(['cacheSeconds', 'timeoutSeconds']);

/** Checks the `queueDepth` option (`false`, `true` or settings) and fills in its defaults. */
export function resolveQueueDepth(
  value: unknown,
): ResolvedQueueDepthOptions | undefined {
  if (value === undefined || value === true) return DEFAULT_QUEUE_DEPTH;
  if (value === false) return undefined;
  const given = resolveObject(
    value,
    'queueDepth',
    QUEUE_DEPTH_KEYS,
    'false, true or { cacheSeconds?, timeoutSeconds? }',
  );
  const cacheSeconds = given.cacheSeconds ?? DEFAULT_QUEUE_DEPTH.cacheSeconds;
  if (
    typeof cacheSeconds !== 'number' ||
    !Number.isFinite(cacheSeconds) ||
    cacheSeconds < 0
  )
    throw invalid(
      'queueDepth.cacheSeconds',
      'a finite number of seconds, 0 or above',
      cacheSeconds,
    );
  return {
    cacheSeconds,
    timeoutSeconds: resolveSeconds(
      given.timeoutSeconds,
      'queueDepth.timeoutSeconds',
      DEFAULT_QUEUE_DEPTH.timeoutSeconds,
    ),
  };
}
