/** Parsers of the Linux files the host metrics read; pure functions of the file's text. */

/** Seconds per clock tick of `/proc/stat` (USER_HZ, 100 on every Linux architecture Node runs on). */
const SECONDS_PER_TICK = 0.01;

/** The `/proc/stat` columns in order, named by the OpenTelemetry `cpu.mode` values. */
const CPU_MODES = [
  'user',
  'nice',
  'system',
  'idle',
  'iowait',
  'interrupt',
  'softirq',
  'steal',
] as const;
export type CpuMode = (typeof CPU_MODES)[number];

export interface CpuTimes {
  /** Seconds of all logical CPUs together, by mode. */
  readonly seconds: Readonly<Record<CpuMode, number>>;
  readonly logicalCount: number;
}

/** `/proc/stat`: the `cpu` line (all CPUs) and the number of `cpuN` lines. */
export function parseProcStat(text: string): CpuTimes {
  const seconds = Object.fromEntries(
    CPU_MODES.map((mode) => [mode, 0]),
  ) as Record<CpuMode, number>;
  let logicalCount = 0;
  for (const line of text.split('\n')) {
    const fields = line.trim().split(/\s+/);
    if (fields[0] === 'cpu') {
      CPU_MODES.forEach((mode, index) => {
        const ticks = Number(fields[index + 1] ?? 0);
        // Guest time is already counted in user and nice: left out, as node_exporter does.
        seconds[mode] = Number.isFinite(ticks) ? ticks * SECONDS_PER_TICK : 0;
      });
    } else if (/^cpu\d+$/.test(fields[0])) logicalCount += 1;
  }
  return { seconds, logicalCount };
}

/** `/proc/meminfo` in bytes, by field name (`MemTotal`, `MemFree`, ...). */
export function parseMeminfo(text: string): Map<string, number> {
  const fields = new Map<string, number>();
  for (const line of text.split('\n')) {
    const match = /^(\w+(?:\(\w+\))?):\s+(\d+)(?:\s+kB)?$/.exec(line.trim());
    if (match)
      fields.set(
        match[1],
        Number(match[2]) * (line.trim().endsWith('kB') ? 1024 : 1),
      );
  }
  return fields;
}

export interface MemoryStates {
  readonly used: number;
  readonly free: number;
  readonly buffers: number;
  readonly cached: number;
  readonly total: number;
}

/**
 * The states of `system.memory.usage` from `/proc/meminfo`, as `free(1)` and the OpenTelemetry
 * host metrics count them: cached includes reclaimable slab, used is the rest.
 */
export function memoryStates(meminfo: Map<string, number>): MemoryStates {
  const total = meminfo.get('MemTotal') ?? 0;
  const free = meminfo.get('MemFree') ?? 0;
  const buffers = meminfo.get('Buffers') ?? 0;
  const cached =
    (meminfo.get('Cached') ?? 0) + (meminfo.get('SReclaimable') ?? 0);
  return {
    total,
    free,
    buffers,
    cached,
    used: Math.max(0, total - free - buffers - cached),
  };
}

/**
 * The memory limit of the process' cgroup from the text of `memory.max` (cgroup v2) or
 * `memory.limit_in_bytes` (v1); `undefined` when unlimited (`max`, or v1's near-2^63 value).
 */
export function parseCgroupLimit(text: string | undefined): number | undefined {
  const value = text?.trim();
  if (value === undefined || value === '' || value === 'max') return undefined;
  const bytes = Number(value);
  if (!Number.isFinite(bytes) || bytes <= 0 || bytes >= 2 ** 62)
    return undefined;
  return bytes;
}

/** The memory cgroup path of this process from `/proc/self/cgroup`: v2 (`0::/…`) or v1 `memory`. */
export function memoryCgroupPaths(text: string): { v2?: string; v1?: string } {
  const paths: { v2?: string; v1?: string } = {};
  for (const line of text.split('\n')) {
    const [id, controllers, path] = line.split(':');
    if (path === undefined) continue;
    if (id === '0' && controllers === '') paths.v2 = path;
    else if (controllers.split(',').includes('memory')) paths.v1 = path;
  }
  return paths;
}

export interface DiskCounters {
  readonly device: string;
  readonly readBytes: number;
  readonly writtenBytes: number;
  readonly reads: number;
  readonly writes: number;
}

/** Devices that are partitions or pseudo devices, left out as node_exporter does by default. */
const IGNORED_DEVICE = /^(ram|loop|fd|(h|s|v|xv)d[a-z]|nvme\d+n\d+p)\d+$/;

/** `/proc/diskstats`: sectors are 512 bytes whatever the device's own sector size. */
export function parseDiskstats(text: string): DiskCounters[] {
  const disks: DiskCounters[] = [];
  for (const line of text.split('\n')) {
    const fields = line.trim().split(/\s+/);
    if (fields.length < 14) continue;
    const device = fields[2];
    if (IGNORED_DEVICE.test(device)) continue;
    disks.push({
      device,
      reads: Number(fields[3]),
      readBytes: Number(fields[5]) * 512,
      writes: Number(fields[7]),
      writtenBytes: Number(fields[9]) * 512,
    });
  }
  return disks;
}

export interface InterfaceCounters {
  readonly name: string;
  readonly receive: DirectionCounters;
  readonly transmit: DirectionCounters;
}

export interface DirectionCounters {
  readonly bytes: number;
  readonly packets: number;
  readonly errors: number;
  readonly dropped: number;
}

/** `/proc/net/dev`: per interface, receive and transmit counters. */
export function parseNetDev(text: string): InterfaceCounters[] {
  const interfaces: InterfaceCounters[] = [];
  for (const line of text.split('\n')) {
    const colon = line.indexOf(':');
    if (colon === -1 || line.includes('|')) continue;
    const name = line.slice(0, colon).trim();
    const values = line
      .slice(colon + 1)
      .trim()
      .split(/\s+/)
      .map(Number);
    if (values.length < 16 || values.some((value) => !Number.isFinite(value)))
      continue;
    const direction = (offset: number): DirectionCounters => ({
      bytes: values[offset],
      packets: values[offset + 1],
      errors: values[offset + 2],
      dropped: values[offset + 3],
    });
    interfaces.push({ name, receive: direction(0), transmit: direction(8) });
  }
  return interfaces;
}

/** `/proc/loadavg`: the 1, 5 and 15 minute load averages. */
export function parseLoadavg(
  text: string,
): [number, number, number] | undefined {
  const [one, five, fifteen] = text.trim().split(/\s+/).map(Number);
  if (![one, five, fifteen].every(Number.isFinite)) return undefined;
  return [one, five, fifteen];
}

export interface Mount {
  readonly device: string;
  readonly mountpoint: string;
  readonly type: string;
}

/** Pseudo and virtual file systems, left out as node_exporter does by default. */
const IGNORED_FS_TYPE =
  /^(autofs|binfmt_misc|bpf|cgroup2?|configfs|debugfs|devpts|devtmpfs|fusectl|hugetlbfs|iso9660|mqueue|nsfs|overlay|proc|procfs|pstore|rpc_pipefs|securityfs|selinuxfs|squashfs|erofs|sysfs|tracefs)$/;
const IGNORED_MOUNTPOINT =
  /^\/(dev|proc|run\/credentials\/.+|sys|var\/lib\/docker\/.+|var\/lib\/containers\/storage\/.+)($|\/)/;

/** `/proc/mounts`: real file systems, each mount point once (the last mount on it wins). */
export function parseMounts(text: string): Mount[] {
  const byMountpoint = new Map<string, Mount>();
  for (const line of text.split('\n')) {
    const [device, rawMountpoint, type] = line.trim().split(/\s+/);
    if (type === undefined || IGNORED_FS_TYPE.test(type)) continue;
    // Spaces and other characters in a mount point are octal escapes (`\040`).
    const mountpoint = rawMountpoint.replace(
      /\\([0-7]{3})/g,
      (_, octal: string) => String.fromCharCode(parseInt(octal, 8)),
    );
    if (IGNORED_MOUNTPOINT.test(mountpoint)) continue;
    byMountpoint.set(mountpoint, { device, mountpoint, type });
  }
  return [...byMountpoint.values()];
}
