import 'reflect-metadata';
import { afterEach, describe, expect, it } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import { MetricsModule, METRICS_REGISTRY } from '../lib/index.js';
import { createApp } from './helpers/create-app.js';
import { find, scrape } from './helpers/metrics-text.js';

const VARIABLES = [
  'ENABLE_HOST_METRICS',
  'ENABLE_GPU_METRICS',
  'METRICS_LABEL_MACHINE_ID',
  'METRICS_LABEL_WORKER_ID',
  'METRICS_LABEL_ROUTE',
  'METRICS_LABEL_9LIVES',
];

describe('Host, GPU and label settings from the environment', () => {
  let app: INestApplication | undefined;

  afterEach(async () => {
    await app?.close();
    app = undefined;
    for (const name of VARIABLES) delete process.env[name];
  });

  const start = async (
    options: Parameters<typeof MetricsModule.forRoot>[0] = {},
  ) =>
    (app = await createApp({
      imports: [MetricsModule.forRoot({ defaultMetrics: false, ...options })],
    }));

  it('ENABLE_HOST_METRICS and ENABLE_GPU_METRICS turn the families on; code wins', async () => {
    process.env.ENABLE_HOST_METRICS = 'true';
    process.env.ENABLE_GPU_METRICS = '1';
    const registry = (await start()).get(METRICS_REGISTRY);
    expect(
      registry.getSingleMetric('system_cpu_time_seconds_total'),
    ).toBeDefined();
    expect(registry.getSingleMetric('gpu_utilization_ratio')).toBeDefined();
    await app!.close();
    app = undefined;
    const off = (await start({ hostMetrics: false, gpuMetrics: false })).get(
      METRICS_REGISTRY,
    );
    expect(
      off.getSingleMetric('system_cpu_time_seconds_total'),
    ).toBeUndefined();
    expect(off.getSingleMetric('gpu_utilization_ratio')).toBeUndefined();
  });

  it('an invalid ENABLE_HOST_METRICS fails start-up naming the variable', async () => {
    process.env.ENABLE_HOST_METRICS = 'yes';
    await expect(start()).rejects.toThrow(
      'environment variable ENABLE_HOST_METRICS must be true, false, 1 or 0; got "yes"',
    );
  });

  it('METRICS_LABEL_<NAME> adds a default label <name>, beside those given in code', async () => {
    process.env.METRICS_LABEL_MACHINE_ID = 'm-17';
    process.env.METRICS_LABEL_WORKER_ID = ' 3 ';
    const samples = await scrape(
      await start({
        defaultLabels: { service: 'orders', worker_id: 'from-code' },
      }),
    );
    expect(
      find(samples, 'uptime_seconds').map((sample) => sample.labels),
    ).toEqual([
      { machine_id: 'm-17', worker_id: 'from-code', service: 'orders' },
    ]);
  });

  it.each([
    [
      'METRICS_LABEL_ROUTE',
      'environment variable METRICS_LABEL_ROUTE must be named for a label the library does not use itself; "route" is taken',
    ],
    [
      'METRICS_LABEL_9LIVES',
      'environment variable METRICS_LABEL_9LIVES must be named METRICS_LABEL_<NAME> with <NAME> a label name',
    ],
  ])('%s fails start-up naming the variable', async (variable, message) => {
    process.env[variable] = 'x';
    await expect(start()).rejects.toThrow(message);
  });
});
