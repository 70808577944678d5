import { randomInt } from 'node:crypto';
import { currentTestFile, writeRunRecord } from './test-run.js';

/** Replays a run's random inputs: `TEST_SEED=<seed> npm test -- <file>`. */
export const SEED_VARIABLE = 'TEST_SEED';

/** A reproducible source of random test inputs (mulberry32). */
export interface SeededRandom {
  /** The seed of this test file's generators (from `TEST_SEED`, or drawn). */
  readonly seed: number;
  /** A float in [0, 1). */
  next(): number;
  /** An integer in [min, max), or in [0, min) with one argument, as `crypto.randomInt`. */
  int(min: number, max?: number): number;
  /** `size` random bytes. */
  bytes(size: number): Buffer;
}

function parseSeed(text: string): number {
  const seed = Number(text);
  if (!Number.isSafeInteger(seed) || seed < 0 || seed >= 2 ** 32) {
    throw new Error(
      `${SEED_VARIABLE} must be an integer from 0 to 4294967295, got "${text}"`,
    );
  }
  return seed;
}

// One seed per test file (jest gives each file its own module registry), so one number replays
// every generator of the file.
const fileSeed =
  process.env[SEED_VARIABLE] !== undefined && process.env[SEED_VARIABLE] !== ''
    ? parseSeed(process.env[SEED_VARIABLE])
    : randomInt(0, 2 ** 32);
const recorded = new Set<string>();

/** FNV-1a, to give each label of a file its own stream from the one seed. */
function hash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/**
 * A generator for one test's random inputs. Its stream depends only on the file's seed and
 * `label`, so a test replays the same inputs when run alone (`-t`). The seed is printed by the
 * summary reporter (`Seeds: …`) and again beside a failing file.
 */
export function seededRandom(label: string): SeededRandom {
  const file = currentTestFile();
  if (!recorded.has(label)) {
    recorded.add(label);
    writeRunRecord({ kind: 'seed', file, label, seed: fileSeed });
  }
  let state = (fileSeed ^ hash(label)) >>> 0;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (min: number, max?: number): number => {
    const [low, high] = max === undefined ? [0, min] : [min, max];
    return low + Math.floor(next() * (high - low));
  };
  const bytes = (size: number): Buffer => {
    const buffer = Buffer.alloc(size);
    for (let i = 0; i < size; i++) buffer[i] = Math.floor(next() * 256);
    return buffer;
  };
  return { seed: fileSeed, next, int, bytes };
}
