import 'reflect-metadata';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import { spawn, type ChildProcess } from 'node:child_process';
import { Registry } from 'prom-client';
import request from 'supertest';
import { MetricsModule } from '../lib/index.js';
import { registerHostMetrics } from '../lib/host/host-metrics.js';
import { CaptureLogger } from './helpers/capture-logger.js';
import { createApp } from './helpers/create-app.js';
import { freePort } from './helpers/free-port.js';
import {
  eventually,
  find,
  parseSamples,
  sum,
  type Sample,
} from './helpers/metrics-text.js';
import { reachable } from './helpers/requirements.js';
import {
  expectPromtoolAccepts,
  findSystemBinary,
} from './helpers/system-binary.js';

const nodeExporter = findSystemBinary(
  'prometheus-node-exporter',
  'prometheus-node-exporter',
  'the comparison of host metrics with node_exporter is',
);
const promtool = findSystemBinary(
  'promtool',
  'prometheus',
  'the promtool check of host metrics is',
);

/** The reader serves one reading per second: a scrape after this sees a new one. */
const READING_INTERVAL_MS = 1_100;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Tolerances of gauges read a few milliseconds apart by two programs (see the README). */
const MEMORY_FREE_TOLERANCE = 0.05; // of the host's memory
const FILESYSTEM_FREE_TOLERANCE = 0.01; // of the file system's size
const LOAD_TOLERANCE = 0.5;

/** node_exporter's `mode` values, by the OpenTelemetry `cpu.mode` we use. */
const NODE_CPU_MODE: Record<string, string> = {
  user: 'user',
  nice: 'nice',
  system: 'system',
  idle: 'idle',
  iowait: 'iowait',
  interrupt: 'irq',
  softirq: 'softirq',
  steal: 'steal',
};

describe('hostMetrics', () => {
  let app: INestApplication;

  beforeAll(async () => {
    app = await createApp({
      imports: [
        MetricsModule.forRoot({ hostMetrics: true, defaultMetrics: false }),
      ],
    });
  });
  afterAll(() => app.close());

  const scrapeApp = async (accept?: string) => {
    const call = request(app.getHttpServer()).get('/metrics');
    if (accept) call.set('Accept', accept);
    return (await call.expect(200)).text;
  };

  it('exposes every host family, accepted by promtool', async () => {
    const text = await scrapeApp();
    const samples = parseSamples(text);
    for (const name of [
      'system_cpu_time_seconds_total',
      'system_cpu_utilization_ratio',
      'system_cpu_logical_cpus',
      'system_cpu_load_average_1m',
      'system_cpu_load_average_5m',
      'system_cpu_load_average_15m',
      'system_memory_usage_bytes',
      'system_memory_limit_bytes',
      'system_disk_io_bytes_total',
      'system_disk_operations_total',
      'system_filesystem_usage_bytes',
      'system_network_io_bytes_total',
      'system_network_packets_total',
      'system_network_errors_total',
      'system_network_dropped_total',
    ])
      expect(find(samples, name).length).toBeGreaterThan(0);
    expect(samples.some((sample) => sample.name.startsWith('node_'))).toBe(
      false,
    );
    const utilization = sum(samples, 'system_cpu_utilization_ratio');
    expect(utilization).toBeCloseTo(1, 6);
    expectPromtoolAccepts(promtool, text);
  });

  it('writes OpenMetrics counters with _total on the samples only', async () => {
    const text = await scrapeApp('application/openmetrics-text; version=1.0.0');
    expect(text).toContain('# TYPE system_network_io_bytes counter');
    expect(text).toMatch(
      /^system_network_io_bytes_total\{network_interface_name="lo",network_io_direction="receive"\} \d/m,
    );
  });

  (nodeExporter ? describe : describe.skip)(
    'agrees with node_exporter reading the same machine',
    () => {
      let exporter: ChildProcess;
      let exporterUrl: string;

      beforeAll(async () => {
        const port = await freePort();
        exporter = spawn(
          nodeExporter!,
          [
            `--web.listen-address=127.0.0.1:${port}`,
            '--collector.disable-defaults',
            '--collector.cpu',
            '--collector.meminfo',
            '--collector.diskstats',
            '--collector.netdev',
            // Debian's build leaves out lo by default; the comparison reads lo.
            '--collector.netdev.device-exclude=^$',
            '--collector.filesystem',
            '--collector.loadavg',
          ],
          { stdio: 'ignore' },
        );
        exporterUrl = `http://127.0.0.1:${port}/metrics`;
        await eventually(async () => expect(await reachable(port)).toBe(true));
      });
      afterAll(() => {
        exporter.kill();
      });

      /** Ours before, node_exporter's, ours after (a new reading): three views in time order. */
      async function threeReadings(): Promise<[Sample[], Sample[], Sample[]]> {
        await sleep(READING_INTERVAL_MS);
        const before = parseSamples(await scrapeApp());
        const node = parseSamples(await (await fetch(exporterUrl)).text());
        await sleep(READING_INTERVAL_MS);
        const after = parseSamples(await scrapeApp());
        return [before, node, after];
      }

      it('counters: node_exporter reads between our reading before and our reading after', async () => {
        const [before, node, after] = await threeReadings();
        const cpus = find(node, 'node_cpu_seconds_total', {
          mode: 'idle',
        }).length;
        expect(sum(before, 'system_cpu_logical_cpus')).toBe(cpus);
        // node_exporter rounds each CPU to 0.01 s; the all-CPU line is their sum.
        const rounding = 0.01 * cpus + 1e-9;
        for (const [mode, nodeMode] of Object.entries(NODE_CPU_MODE)) {
          const theirs = sum(node, 'node_cpu_seconds_total', {
            mode: nodeMode,
          });
          expect(theirs).toBeGreaterThanOrEqual(
            sum(before, 'system_cpu_time_seconds_total', { cpu_mode: mode }) -
              rounding,
          );
          expect(theirs).toBeLessThanOrEqual(
            sum(after, 'system_cpu_time_seconds_total', { cpu_mode: mode }) +
              rounding,
          );
        }
        for (const [ours, theirs, labels] of [
          [
            'system_network_io_bytes_total',
            'node_network_receive_bytes_total',
            { network_io_direction: 'receive' },
          ],
          [
            'system_network_io_bytes_total',
            'node_network_transmit_bytes_total',
            { network_io_direction: 'transmit' },
          ],
          [
            'system_network_packets_total',
            'node_network_receive_packets_total',
            { network_io_direction: 'receive' },
          ],
        ] as const) {
          const value = sum(node, theirs, { device: 'lo' });
          expect(value).toBeGreaterThan(0);
          expect(value).toBeGreaterThanOrEqual(
            sum(before, ours, { ...labels, network_interface_name: 'lo' }),
          );
          expect(value).toBeLessThanOrEqual(
            sum(after, ours, { ...labels, network_interface_name: 'lo' }),
          );
        }
        const disks = find(node, 'node_disk_read_bytes_total').map(
          (sample) => sample.labels.device,
        );
        expect(
          find(before, 'system_disk_io_bytes_total', {
            disk_io_direction: 'read',
          })
            .map((sample) => sample.labels.system_device)
            .sort(),
        ).toEqual([...disks].sort());
        for (const device of disks)
          for (const [direction, theirs] of [
            ['read', 'node_disk_read_bytes_total'],
            ['write', 'node_disk_written_bytes_total'],
          ] as const) {
            const value = sum(node, theirs, { device });
            const labels = {
              system_device: device,
              disk_io_direction: direction,
            };
            expect(value).toBeGreaterThanOrEqual(
              sum(before, 'system_disk_io_bytes_total', labels),
            );
            expect(value).toBeLessThanOrEqual(
              sum(after, 'system_disk_io_bytes_total', labels),
            );
          }
      });

      it('gauges: memory, file systems and load within the documented tolerances', async () => {
        const [ours, node] = await threeReadings();
        const total = sum(node, 'node_memory_MemTotal_bytes');
        expect(sum(ours, 'system_memory_usage_bytes')).toBe(total);
        expect(sum(ours, 'system_memory_limit_bytes')).toBeLessThanOrEqual(
          total,
        );
        expect(
          Math.abs(
            sum(ours, 'system_memory_usage_bytes', {
              system_memory_state: 'free',
            }) - sum(node, 'node_memory_MemFree_bytes'),
          ),
        ).toBeLessThanOrEqual(MEMORY_FREE_TOLERANCE * total);

        const root = { system_filesystem_mountpoint: '/' };
        const size = sum(node, 'node_filesystem_size_bytes', {
          mountpoint: '/',
        });
        expect(size).toBeGreaterThan(0);
        expect(sum(ours, 'system_filesystem_usage_bytes', root)).toBe(size);
        expect(
          Math.abs(
            sum(ours, 'system_filesystem_usage_bytes', {
              ...root,
              system_filesystem_state: 'free',
            }) - sum(node, 'node_filesystem_avail_bytes', { mountpoint: '/' }),
          ),
        ).toBeLessThanOrEqual(FILESYSTEM_FREE_TOLERANCE * size);
        // Debian's node_exporter leaves out more mount points (/run, /mnt, /media) by default.
        const ourMounts = new Set(
          find(ours, 'system_filesystem_usage_bytes').map(
            (sample) => sample.labels.system_filesystem_mountpoint,
          ),
        );
        for (const sample of find(node, 'node_filesystem_size_bytes'))
          expect(ourMounts).toContain(sample.labels.mountpoint);

        for (const [ours1, theirs] of [
          ['system_cpu_load_average_1m', 'node_load1'],
          ['system_cpu_load_average_5m', 'node_load5'],
          ['system_cpu_load_average_15m', 'node_load15'],
        ] as const)
          expect(
            Math.abs(sum(ours, ours1) - sum(node, theirs)),
          ).toBeLessThanOrEqual(LOAD_TOLERANCE);
      });
    },
  );
});

describe('hostMetrics off Linux', () => {
  it('registers no family and says so once', async () => {
    const logger = new CaptureLogger();
    const { Logger } = await import('@nestjs/common');
    Logger.overrideLogger(logger);
    try {
      const registry = new Registry();
      registerHostMetrics(registry, 'darwin');
      expect(await registry.getMetricsAsJSON()).toEqual([]);
      expect(logger.messagesAt('log')).toEqual([
        expect.stringContaining('on Linux only; this is darwin'),
      ]);
    } finally {
      Logger.overrideLogger(new Logger());
    }
  });
});
