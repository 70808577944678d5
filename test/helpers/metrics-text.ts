import request from 'supertest';
import type { INestApplication } from '@nestjs/common';

export type Labels = Record<string, string>;

export interface Sample {
  name: string;
  labels: Labels;
  value: number;
}

/** Parses the Prometheus text format into samples (comments dropped). */
export function parseSamples(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match) throw new Error(`unparsable sample line: ${line}`);
    const labels: Labels = {};
    for (const pair of (match[2] ?? '').matchAll(
      /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g,
    )) {
      labels[pair[1]] = pair[2].replace(/\\(.)/g, (_m, c: string) =>
        c === 'n' ? '\n' : c,
      );
    }
    samples.push({ name: match[1], labels, value: Number(match[3]) });
  }
  return samples;
}

/** Sum of the samples named `name` whose labels include `labels`. */
export function sum(
  samples: Sample[],
  name: string,
  labels: Labels = {},
): number {
  return samples
    .filter(
      (s) =>
        s.name === name &&
        Object.entries(labels).every(([k, v]) => s.labels[k] === v),
    )
    .reduce((total, s) => total + s.value, 0);
}

/** The samples named `name` whose labels include `labels`. */
export function find(
  samples: Sample[],
  name: string,
  labels: Labels = {},
): Sample[] {
  return samples.filter(
    (s) =>
      s.name === name &&
      Object.entries(labels).every(([k, v]) => s.labels[k] === v),
  );
}

export async function scrape(
  app: INestApplication,
  path = '/metrics',
): Promise<Sample[]> {
  const response = await request(app.getHttpServer()).get(path).expect(200);
  return parseSamples(response.text);
}

/**
 * Waits until `check` stops throwing (responses are recorded when the socket says they ended).
 * `timeoutMs` only turns a wait that never ends into the last error of `check`; it is not a
 * speed requirement, so it is generous (and below jest's 30 s per test).
 */
export async function eventually<T>(
  check: () => Promise<T> | T,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
}
