import { afterAll, describe, expect, it } from '@jest/globals';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { HostReader } from './host-reader.js';

const roots: string[] = [];

/** A directory laid out like `/proc` and `/sys/fs/cgroup`, holding `files`. */
async function fakeHost(files: Record<string, string>) {
  const root = await mkdtemp(join(tmpdir(), 'host-reader-'));
  roots.push(root);
  for (const [path, text] of Object.entries(files)) {
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), text);
  }
  return { proc: join(root, 'proc'), cgroup: join(root, 'cgroup') };
}

const MEMINFO =
  'MemTotal: 4194304 kB\nMemFree: 1048576 kB\nBuffers: 0 kB\nCached: 0 kB\n';
const STAT = (idle: number, user: number) =>
  `cpu  ${user} 0 0 ${idle} 0 0 0 0 0 0\ncpu0 ${user} 0 0 ${idle} 0 0 0 0 0 0\n`;

afterAll(async () => {
  for (const root of roots) await rm(root, { recursive: true, force: true });
});

describe('HostReader', () => {
  it("takes a cgroup v2 limit below the host's memory as the limit", async () => {
    const paths = await fakeHost({
      'proc/meminfo': MEMINFO,
      'proc/self/cgroup': '0::/app.slice\n',
      'cgroup/app.slice/memory.max': '536870912\n',
      'cgroup/app.slice/memory.current': '104857600\n',
    });
    const reading = await new HostReader(paths).read();
    expect(reading.memoryLimit).toBe(536870912);
    expect(reading.cgroupMemoryUsage).toBe(104857600);
  });

  it("takes the host's memory when the cgroup (v1) has no limit, and leaves out what cannot be read", async () => {
    const paths = await fakeHost({
      'proc/meminfo': MEMINFO,
      'proc/self/cgroup': '4:memory:/job\n',
      'cgroup/memory/job/memory.limit_in_bytes': '9223372036854771712\n',
      'cgroup/memory/job/memory.usage_in_bytes': '2048\n',
    });
    const reading = await new HostReader(paths).read();
    expect(reading.memoryLimit).toBe(4194304 * 1024);
    expect(reading.cgroupMemoryUsage).toBe(2048);
    expect(reading.cpu).toBeUndefined();
    expect(reading.load).toBeUndefined();
    expect(reading.interfaces).toBeUndefined();
  });

  it('reads at most once per interval, and utilisation is over the time between readings', async () => {
    const paths = await fakeHost({ 'proc/stat': STAT(100, 100) });
    let now = 0;
    const reader = new HostReader(paths, 1000, () => now);
    const first = await reader.read();
    // Since boot: half idle, half user.
    expect(first.cpuUtilization).toMatchObject({ idle: 0.5, user: 0.5 });
    await writeFile(join(paths.proc, 'stat'), STAT(130, 110));
    now = 999;
    expect(await reader.read()).toBe(first);
    now = 1000;
    const second = await reader.read();
    expect(second.cpu?.seconds.idle).toBeCloseTo(1.3);
    // Between the two readings: 0.3 s idle, 0.1 s user.
    expect(second.cpuUtilization?.idle).toBeCloseTo(0.75);
    expect(second.cpuUtilization?.user).toBeCloseTo(0.25);
  });
});
