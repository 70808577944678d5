import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';

// How busy the machine is with work that is not the bench's: /proc/stat's busy time of every CPU
// minus the CPU time of the bench's own processes over the same window. Linux only.

const CLOCK_TICKS = ((): number => {
  const ticks = Number(
    spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout?.trim(),
  );
  return Number.isFinite(ticks) && ticks > 0 ? ticks : 100;
})();

/** Whether /proc/stat and /proc/<pid>/stat can be read here. */
export const MACHINE_LOAD_AVAILABLE = ((): boolean => {
  try {
    readFileSync('/proc/stat', 'utf8');
    readFileSync(`/proc/${process.pid}/stat`, 'utf8');
    return true;
  } catch {
    return false;
  }
})();

/** Busy and total CPU seconds of the machine (all CPUs), and of each watched process. */
export interface CpuReading {
  machineBusySeconds: number;
  machineTotalSeconds: number;
  processSeconds: number[];
}

function machineSeconds(): { busy: number; total: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0];
  // cpu user nice system idle iowait irq softirq steal guest guest_nice; guest time is already in user.
  const [user, nice, system, idle, iowait, irq, softirq, steal] = line
    .trim()
    .split(/\s+/)
    .slice(1, 9)
    .map(Number);
  const busy = user + nice + system + irq + softirq;
  return {
    busy: busy / CLOCK_TICKS,
    total: (busy + idle + iowait + (steal ?? 0)) / CLOCK_TICKS,
  };
}

/** utime + stime of one process (all its threads), in seconds; NaN once it is gone. */
function processSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name may hold spaces: fields are counted after its closing parenthesis.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  } catch {
    return NaN;
  }
}

/** The machine's CPU time and that of `pids`, now. */
export function readCpu(pids: readonly number[]): CpuReading {
  const machine = machineSeconds();
  return {
    machineBusySeconds: machine.busy,
    machineTotalSeconds: machine.total,
    processSeconds: pids.map(processSeconds),
  };
}

/**
 * The share of the whole machine's CPU capacity (all cores) that processes other than `pids`
 * used between two readings, 0 to 1.
 */
export function otherCpuShare(before: CpuReading, after: CpuReading): number {
  const total = after.machineTotalSeconds - before.machineTotalSeconds;
  if (total <= 0) return NaN;
  let own = 0;
  for (const [i, seconds] of after.processSeconds.entries()) {
    // A process that was gone at either reading: what it used in between is not known.
    const used = seconds - before.processSeconds[i];
    if (Number.isFinite(used)) own += used;
  }
  const busy = after.machineBusySeconds - before.machineBusySeconds;
  return Math.max(0, busy - own) / total;
}

/** `os.loadavg()` with the time it was read. */
export interface LoadAverage {
  at: string;
  oneMinute: number;
  fiveMinutes: number;
  fifteenMinutes: number;
}

export function loadAverage(): LoadAverage {
  const [oneMinute, fiveMinutes, fifteenMinutes] = os.loadavg();
  return {
    at: new Date().toISOString(),
    oneMinute,
    fiveMinutes,
    fifteenMinutes,
  };
}
