import 'reflect-metadata';
import {
  afterAll,
  afterEach,
  beforeAll,
  describe,
  expect,
  it,
} from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MetricsModule, type MetricsModuleOptions } from '../lib/index.js';
import { CaptureLogger } from './helpers/capture-logger.js';
import { createApp } from './helpers/create-app.js';
import { eventually, find, scrape } from './helpers/metrics-text.js';

/**
 * A stand-in for `nvidia-smi` (these machines have no GPU): prints the file `output` of its
 * folder and exits with the code in `exit`, or hangs while `hang` exists; records its arguments,
 * its pid and how often it ran.
 */
const STAND_IN = `#!/bin/sh
dir=$(dirname "$0")
echo "$@" > "$dir/args"
echo $$ > "$dir/pid"
runs=$(cat "$dir/runs" 2>/dev/null || echo 0)
echo $((runs + 1)) > "$dir/runs"
if [ -f "$dir/hang" ]; then exec sleep 60; fi
cat "$dir/output"
exit $(cat "$dir/exit" 2>/dev/null || echo 0)
`;

/** Lines as nvidia-smi prints them for `--format=csv,noheader,nounits`. */
const A100 =
  '0, GPU-5d5b3f2e-3c9a-2f4c-6d8e-1a2b3c4d5e6f, NVIDIA A100-SXM4-40GB, 35, 1024, 40960, 45, 70.50';
const T4_NA =
  '1, GPU-0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b, Tesla T4, [N/A], 0, 15360, 40, [N/A]';
const GEFORCE_NOT_SUPPORTED =
  '2, GPU-aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee, NVIDIA GeForce RTX 3090, 7, 512, 24576, 38, [Not Supported]';

const MIB = 1024 * 1024;

describe('gpuMetrics with a stand-in nvidia-smi on PATH', () => {
  let dir: string;
  let app: INestApplication | undefined;
  let logger: CaptureLogger;
  const savedPath = process.env.PATH;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'nvidia-smi-'));
    await writeFile(join(dir, 'nvidia-smi'), STAND_IN);
    await chmod(join(dir, 'nvidia-smi'), 0o755);
    process.env.PATH = `${dir}:${savedPath}`;
  });
  afterAll(async () => {
    process.env.PATH = savedPath;
    await rm(dir, { recursive: true, force: true });
  });
  afterEach(async () => {
    await app?.close();
    app = undefined;
    for (const file of ['hang', 'exit', 'runs', 'pid', 'args'])
      await rm(join(dir, file), { force: true });
  });

  async function start(
    output: string,
    gpuMetrics: MetricsModuleOptions['gpuMetrics'] = true,
  ) {
    await writeFile(join(dir, 'output'), output);
    logger = new CaptureLogger();
    app = await createApp(
      {
        imports: [MetricsModule.forRoot({ gpuMetrics, defaultMetrics: false })],
      },
      undefined,
      'express',
      { logger },
    );
    return app;
  }

  it('one GPU: every value with its index, uuid and name, in base units', async () => {
    const samples = await scrape(await start(`${A100}\n`));
    const labels = {
      gpu: '0',
      uuid: 'GPU-5d5b3f2e-3c9a-2f4c-6d8e-1a2b3c4d5e6f',
      name: 'NVIDIA A100-SXM4-40GB',
    };
    const value = (name: string) =>
      find(samples, name, labels).map((s) => s.value);
    expect(value('gpu_utilization_ratio')).toEqual([0.35]);
    expect(value('gpu_memory_used_bytes')).toEqual([1024 * MIB]);
    expect(value('gpu_memory_total_bytes')).toEqual([40960 * MIB]);
    expect(value('gpu_temperature_celsius')).toEqual([45]);
    expect(value('gpu_power_draw_watts')).toEqual([70.5]);
    expect((await readFile(join(dir, 'args'), 'utf8')).trim()).toBe(
      '--query-gpu=index,uuid,name,utilization.gpu,memory.used,memory.total,temperature.gpu,power.draw --format=csv,noheader,nounits',
    );
  });

  it('several GPUs; [N/A] and [Not Supported] leave that series out; one run per cache period', async () => {
    const started = await start(
      `${A100}\n${T4_NA}\n${GEFORCE_NOT_SUPPORTED}\n`,
    );
    const samples = await scrape(started);
    expect(
      find(samples, 'gpu_memory_total_bytes').map((s) => s.labels.gpu),
    ).toEqual(['0', '1', '2']);
    expect(
      find(samples, 'gpu_utilization_ratio').map((s) => s.labels.gpu),
    ).toEqual(['0', '2']);
    expect(
      find(samples, 'gpu_power_draw_watts').map((s) => s.labels.gpu),
    ).toEqual(['0']);
    await scrape(started);
    expect((await readFile(join(dir, 'runs'), 'utf8')).trim()).toBe('1');
  });

  it('an error exit: no GPU series and one warning for the streak', async () => {
    await writeFile(join(dir, 'exit'), '9');
    const started = await start(
      `NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver.\n`,
      {
        cacheSeconds: 0.01,
      },
    );
    for (let scrapes = 0; scrapes < 3; scrapes++) {
      expect(find(await scrape(started), 'gpu_memory_total_bytes')).toEqual([]);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(
      Number(await readFile(join(dir, 'runs'), 'utf8')),
    ).toBeGreaterThanOrEqual(2);
    expect(logger.messagesAt('warn')).toEqual([
      expect.stringMatching(/^gpuMetrics: nvidia-smi exited with 9;/),
    ]);
  });

  it('a hung nvidia-smi is killed at the timeout and the scrape answers without GPU series', async () => {
    await writeFile(join(dir, 'hang'), '');
    const started = await start(`${A100}\n`, { timeoutSeconds: 0.3 });
    expect(find(await scrape(started), 'gpu_utilization_ratio')).toEqual([]);
    const pid = Number(await readFile(join(dir, 'pid'), 'utf8'));
    await eventually(() => expect(() => process.kill(pid, 0)).toThrow(/ESRCH/));
    expect(logger.messagesAt('warn')).toEqual([
      expect.stringContaining('no answer within 300 ms (killed)'),
    ]);
  });

  it('no nvidia-smi: no series and one info line naming DCGM', async () => {
    const started = await start('', {
      command: join(dir, 'absent', 'nvidia-smi'),
      cacheSeconds: 0.01,
    });
    for (let scrapes = 0; scrapes < 2; scrapes++) {
      expect(find(await scrape(started), 'gpu_temperature_celsius')).toEqual(
        [],
      );
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(
      logger.messagesAt('log').filter((line) => line.startsWith('gpuMetrics')),
    ).toEqual([
      expect.stringContaining('was not found, so there are no GPU metrics'),
    ]);
    expect(logger.messagesAt('warn')).toEqual([]);
  });

  it('a wrong setting fails start-up naming it', async () => {
    await expect(start('', { timeoutSeconds: 0 })).rejects.toThrow(
      'option "gpuMetrics.timeoutSeconds" must be a finite number of seconds above 0',
    );
  });
});
