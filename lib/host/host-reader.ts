import { readFile, statfs } from 'node:fs/promises';
import {
  memoryCgroupPaths,
  memoryStates,
  parseCgroupLimit,
  parseDiskstats,
  parseLoadavg,
  parseMeminfo,
  parseMounts,
  parseNetDev,
  parseProcStat,
  type CpuMode,
  type CpuTimes,
  type DiskCounters,
  type InterfaceCounters,
  type MemoryStates,
  type Mount,
} from './proc-parsers.js';

export interface FilesystemUsage extends Mount {
  readonly used: number;
  readonly free: number;
  readonly reserved: number;
}

/** One reading of the host; a part that could not be read is `undefined` (its series absent). */
export interface HostReading {
  readonly cpu?: CpuTimes;
  /** Fraction of CPU time by mode since the previous reading (since boot for the first). */
  readonly cpuUtilization?: Readonly<Record<string, number>>;
  readonly memory?: MemoryStates;
  /** The cgroup's limit when it has one below the host's memory, else the host's memory. */
  readonly memoryLimit?: number;
  /** What the process' memory cgroup uses, when one is readable. */
  readonly cgroupMemoryUsage?: number;
  readonly disks?: readonly DiskCounters[];
  readonly filesystems?: readonly FilesystemUsage[];
  readonly interfaces?: readonly InterfaceCounters[];
  readonly load?: readonly [number, number, number];
}

/** Where the reader finds `/proc` and `/sys/fs/cgroup` (another root in tests). */
export interface HostPaths {
  readonly proc: string;
  readonly cgroup: string;
}

const LINUX_PATHS: HostPaths = { proc: '/proc', cgroup: '/sys/fs/cgroup' };

/** How long one `statfs` may take before that file system is left out of the reading. */
const STATFS_TIMEOUT_MS = 1000;

/**
 * Reads the host asynchronously, at most once per `minIntervalMs`: scrapes within it (and
 * concurrent ones) share one reading. Nothing runs between scrapes: no timer.
 */
export class HostReader {
  private last?: { at: number; reading: Promise<HostReading> };
  private previousCpu?: CpuTimes;

  constructor(
    private readonly paths: HostPaths = LINUX_PATHS,
    private readonly minIntervalMs = 1000,
    private readonly now: () => number = Date.now,
  ) {}

  read(): Promise<HostReading> {
    const at = this.now();
    if (this.last && at - this.last.at < this.minIntervalMs)
      return this.last.reading;
    const reading = this.readNow();
    this.last = { at, reading };
    return reading;
  }

  private async readNow(): Promise<HostReading> {
    const { proc } = this.paths;
    const [stat, meminfo, diskstats, netDev, loadavg, mounts, cgroups] =
      await Promise.all(
        [
          'stat',
          'meminfo',
          'diskstats',
          'net/dev',
          'loadavg',
          'mounts',
          'self/cgroup',
        ].map((file) => readText(`${proc}/${file}`)),
      );
    const cpu = stat === undefined ? undefined : parseProcStat(stat);
    const memory =
      meminfo === undefined ? undefined : memoryStates(parseMeminfo(meminfo));
    const cgroup = cgroups === undefined ? {} : await this.readCgroup(cgroups);
    const limit = cgroup.limit;
    return {
      cpu,
      cpuUtilization: cpu && this.utilization(cpu),
      memory,
      memoryLimit:
        memory &&
        (limit !== undefined && limit < memory.total ? limit : memory.total),
      cgroupMemoryUsage: cgroup.usage,
      disks: diskstats === undefined ? undefined : parseDiskstats(diskstats),
      filesystems:
        mounts === undefined
          ? undefined
          : await readFilesystems(parseMounts(mounts)),
      interfaces: netDev === undefined ? undefined : parseNetDev(netDev),
      load: loadavg === undefined ? undefined : parseLoadavg(loadavg),
    };
  }

  private utilization(cpu: CpuTimes): Record<string, number> {
    const before = this.previousCpu;
    this.previousCpu = cpu;
    const delta = Object.fromEntries(
      Object.entries(cpu.seconds).map(([mode, seconds]) => [
        mode,
        Math.max(0, seconds - (before?.seconds[mode as CpuMode] ?? 0)),
      ]),
    );
    // Two readings within one clock tick: the fractions since boot rather than none.
    return fractions(sumOf(delta) > 0 ? delta : cpu.seconds);
  }

  /** cgroup v2 (`memory.max`, `memory.current`) first, then v1 (`memory.limit_in_bytes`, …). */
  private async readCgroup(
    selfCgroup: string,
  ): Promise<{ limit?: number; usage?: number }> {
    const { v2, v1 } = memoryCgroupPaths(selfCgroup);
    const { cgroup } = this.paths;
    const candidates: Array<[string, string]> = [];
    if (v2 !== undefined) {
      candidates.push([
        `${cgroup}${v2}/memory.max`,
        `${cgroup}${v2}/memory.current`,
      ]);
      candidates.push([`${cgroup}/memory.max`, `${cgroup}/memory.current`]);
    }
    if (v1 !== undefined) {
      candidates.push([
        `${cgroup}/memory${v1}/memory.limit_in_bytes`,
        `${cgroup}/memory${v1}/memory.usage_in_bytes`,
      ]);
      // Inside a container the process' own cgroup is usually mounted as the root.
      candidates.push([
        `${cgroup}/memory/memory.limit_in_bytes`,
        `${cgroup}/memory/memory.usage_in_bytes`,
      ]);
    }
    for (const [limitFile, usageFile] of candidates) {
      const [limitText, usageText] = await Promise.all([
        readText(limitFile),
        readText(usageFile),
      ]);
      if (limitText === undefined && usageText === undefined) continue;
      const usage = Number(usageText?.trim());
      return {
        limit: parseCgroupLimit(limitText),
        usage:
          Number.isFinite(usage) && usageText !== undefined ? usage : undefined,
      };
    }
    return {};
  }
}

function sumOf(values: Readonly<Record<string, number>>): number {
  return Object.values(values).reduce((sum, value) => sum + value, 0);
}

function fractions(
  values: Readonly<Record<string, number>>,
): Record<string, number> {
  const total = sumOf(values);
  return Object.fromEntries(
    Object.entries(values).map(([mode, value]) => [
      mode,
      total ? value / total : 0,
    ]),
  );
}

async function readText(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch {
    return undefined;
  }
}

/**
 * The `statfs` calls still running, by mount point. A call on a hung network mount holds one of
 * libuv's few threads until the kernel gives up: such a mount is left out of later readings until
 * its call returns, instead of taking another thread at every reading.
 */
const statfsInFlight = new Set<string>();

async function readFilesystems(mounts: Mount[]): Promise<FilesystemUsage[]> {
  const usages = await Promise.all(
    mounts
      .filter(({ mountpoint }) => !statfsInFlight.has(mountpoint))
      .map(readFilesystem),
  );
  return usages.filter(
    (usage): usage is FilesystemUsage => usage !== undefined,
  );
}

/** One mount's `statfs`, or `undefined` when it fails or takes too long (a hung network mount). */
async function readFilesystem(
  mount: Mount,
): Promise<FilesystemUsage | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), STATFS_TIMEOUT_MS);
    timer.unref();
  });
  statfsInFlight.add(mount.mountpoint);
  const call = statfs(mount.mountpoint).finally(() =>
    statfsInFlight.delete(mount.mountpoint),
  );
  try {
    const stats = await Promise.race([call, timeout]);
    if (stats === undefined || stats.blocks === 0) return undefined;
    return {
      ...mount,
      used: (stats.blocks - stats.bfree) * stats.bsize,
      free: stats.bavail * stats.bsize,
      reserved: (stats.bfree - stats.bavail) * stats.bsize,
    };
  } catch {
    return undefined;
  } finally {
    clearTimeout(timer);
  }
}
