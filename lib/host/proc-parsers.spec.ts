import { describe, expect, it } from '@jest/globals';
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
} from './proc-parsers.js';

describe('Linux file parsers', () => {
  it('/proc/stat: seconds by mode from the all-CPU line, and the logical CPU count', () => {
    const cpu = parseProcStat(
      [
        'cpu  27118 5 7114 103304 588 3 198 71 40 0',
        'cpu0 12620 0 3071 53283 88 0 59 27 0 0',
        'cpu1 14498 5 4043 50020 500 3 138 43 40 0',
        'intr 1234 5 6',
      ].join('\n'),
    );
    expect(cpu.logicalCount).toBe(2);
    expect(cpu.seconds.user).toBeCloseTo(271.18);
    expect(cpu.seconds.nice).toBeCloseTo(0.05);
    expect(cpu.seconds.idle).toBeCloseTo(1033.04);
    expect(cpu.seconds.interrupt).toBeCloseTo(0.03);
    expect(cpu.seconds.steal).toBeCloseTo(0.71);
  });

  it('/proc/meminfo: bytes, and the states free(1) reports', () => {
    const meminfo = parseMeminfo(
      [
        'MemTotal:       1000 kB',
        'MemFree:         400 kB',
        'Buffers:          50 kB',
        'Cached:          200 kB',
        'SReclaimable:     30 kB',
        'HugePages_Total:       0',
      ].join('\n'),
    );
    expect(meminfo.get('MemTotal')).toBe(1000 * 1024);
    expect(meminfo.get('HugePages_Total')).toBe(0);
    expect(memoryStates(meminfo)).toEqual({
      total: 1000 * 1024,
      free: 400 * 1024,
      buffers: 50 * 1024,
      cached: 230 * 1024,
      used: 320 * 1024,
    });
  });

  it('cgroup limits: a number, or none for max and for cgroup v1 unlimited', () => {
    expect(parseCgroupLimit('536870912\n')).toBe(536870912);
    expect(parseCgroupLimit('max\n')).toBeUndefined();
    expect(parseCgroupLimit('9223372036854771712\n')).toBeUndefined();
    expect(parseCgroupLimit(undefined)).toBeUndefined();
    expect(
      memoryCgroupPaths(
        '4:memory:/kubepods/pod1\n1:cpu:/\n0::/system.slice/app',
      ),
    ).toEqual({ v1: '/kubepods/pod1', v2: '/system.slice/app' });
  });

  it('/proc/diskstats: 512-byte sectors, partitions and loop devices left out', () => {
    const disks = parseDiskstats(
      [
        ' 253       0 vda 100 0 2000 0 50 0 4000 0 0 0 0 0 0 0 0 0 0',
        ' 253       1 vda1 90 0 1800 0 40 0 3000 0 0 0 0 0 0 0 0 0 0',
        '   7       0 loop0 1 0 8 0 0 0 0 0 0 0 0 0 0 0 0 0 0',
        ' 259       0 nvme0n1 7 0 16 0 3 0 24 0 0 0 0 0 0 0 0 0 0',
        ' 259       1 nvme0n1p1 7 0 16 0 3 0 24 0 0 0 0 0 0 0 0 0 0',
      ].join('\n'),
    );
    expect(disks).toEqual([
      {
        device: 'vda',
        reads: 100,
        readBytes: 2000 * 512,
        writes: 50,
        writtenBytes: 4000 * 512,
      },
      {
        device: 'nvme0n1',
        reads: 7,
        readBytes: 16 * 512,
        writes: 3,
        writtenBytes: 24 * 512,
      },
    ]);
  });

  it('/proc/net/dev: receive and transmit counters per interface', () => {
    const interfaces = parseNetDev(
      [
        'Inter-|   Receive                                                |  Transmit',
        ' face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed',
        '    lo: 700  7    0    0    0     0          0         0 700  7    0    0    0     0       0          0',
        '  eth0: 1000 10 1 2 0 0 0 0 3000 30 3 4 0 0 0 0',
      ].join('\n'),
    );
    expect(interfaces).toEqual([
      {
        name: 'lo',
        receive: { bytes: 700, packets: 7, errors: 0, dropped: 0 },
        transmit: { bytes: 700, packets: 7, errors: 0, dropped: 0 },
      },
      {
        name: 'eth0',
        receive: { bytes: 1000, packets: 10, errors: 1, dropped: 2 },
        transmit: { bytes: 3000, packets: 30, errors: 3, dropped: 4 },
      },
    ]);
  });

  it('/proc/loadavg and /proc/mounts', () => {
    expect(parseLoadavg('0.25 0.88 0.55 2/150 13320\n')).toEqual([
      0.25, 0.88, 0.55,
    ]);
    expect(parseLoadavg('')).toBeUndefined();
    expect(
      parseMounts(
        [
          'proc /proc proc rw 0 0',
          '/dev/vda / ext4 rw 0 0',
          'tmpfs /dev/shm tmpfs rw 0 0',
          'cgroup /sys/fs/cgroup/cpu cgroup rw 0 0',
          '/dev/vdb /data\\040disk xfs rw 0 0',
          'overlay /var/lib/docker/overlay2/x/merged overlay rw 0 0',
        ].join('\n'),
      ),
    ).toEqual([
      { device: '/dev/vda', mountpoint: '/', type: 'ext4' },
      { device: '/dev/vdb', mountpoint: '/data disk', type: 'xfs' },
    ]);
  });
});
