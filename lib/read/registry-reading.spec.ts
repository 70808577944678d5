import { describe, expect, it } from '@jest/globals';
import { Counter, Histogram, Registry, Summary } from 'prom-client';
import { readFamily, readRegistry } from './registry-reading.js';

describe('readRegistry', () => {
  const registry = new Registry();
  registry.setDefaultLabels({ app: 'orders' });
  const counter = new Counter({
    name: 'jobs_total',
    help: 'jobs',
    labelNames: ['kind'],
    registers: [registry],
  });
  const histogram = new Histogram({
    name: 'work_seconds',
    help: 'work',
    labelNames: ['kind'],
    buckets: [0.1, 1],
    registers: [registry],
  });
  const summary = new Summary({
    name: 'size_bytes',
    help: 'size',
    percentiles: [0.5],
    registers: [registry],
  });
  counter.inc({ kind: 'a' }, 2);
  histogram.observe({ kind: 'a' }, 0.05);
  histogram.observe({ kind: 'a' }, 0.5);
  histogram.observe({ kind: 'b' }, 5);
  summary.observe(10);

  it('groups a histogram into series of buckets, sum and count, default labels included', async () => {
    const families = await readRegistry(registry);
    const work = families.find((family) => family.name === 'work_seconds');
    expect(work).toEqual({
      name: 'work_seconds',
      help: 'work',
      type: 'histogram',
      series: [
        {
          labels: { app: 'orders', kind: 'a' },
          count: 2,
          sum: 0.55,
          buckets: [
            { le: 0.1, count: 1 },
            { le: 1, count: 2 },
            { le: Infinity, count: 2 },
          ],
        },
        {
          labels: { app: 'orders', kind: 'b' },
          count: 1,
          sum: 5,
          buckets: [
            { le: 0.1, count: 0 },
            { le: 1, count: 0 },
            { le: Infinity, count: 1 },
          ],
        },
      ],
    });
    expect(families.find((family) => family.name === 'jobs_total')).toEqual({
      name: 'jobs_total',
      help: 'jobs',
      type: 'counter',
      series: [{ labels: { app: 'orders', kind: 'a' }, value: 2 }],
    });
    expect(families.find((family) => family.name === 'size_bytes')).toEqual({
      name: 'size_bytes',
      help: 'size',
      type: 'summary',
      series: [
        {
          labels: { app: 'orders' },
          count: 1,
          sum: 10,
          quantiles: [{ quantile: 0.5, value: 10 }],
        },
      ],
    });
  });

  it('reads one family by name the same way, and nothing for an unknown name', async () => {
    const all = await readRegistry(registry);
    expect(await readFamily(registry, 'jobs_total')).toEqual(
      all.find((family) => family.name === 'jobs_total'),
    );
    expect(await readFamily(registry, 'missing_total')).toBeUndefined();
  });
});
