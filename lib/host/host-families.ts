import { markLiveState } from '../read/registry-state.js';
import type { Registry } from 'prom-client';
import type { HostReading } from './host-reader.js';

export type Sample = readonly [labels: Record<string, string>, value: number];

/** One host metric family: described once, its samples derived from a reading. */
export type HostFamily = CollectedFamilySpec<HostReading>;

const DIRECTIONS = ['receive', 'transmit'] as const;

/**
 * The host families, named after the OpenTelemetry semantic conventions (and the Collector's
 * host metrics receiver) translated to Prometheus: dots to `_`, the unit as a suffix, `_total`
 * on counters. None collides with node_exporter's `node_*`.
 */
export const HOST_FAMILIES: readonly HostFamily[] = [
  {
    name: 'system_cpu_time_seconds_total',
    help: 'CPU time of all logical CPUs together, by mode (system.cpu.time).',
    type: 'counter',
    labelNames: ['cpu_mode'],
    *samples({ cpu }) {
      if (cpu)
        for (const [mode, seconds] of Object.entries(cpu.seconds))
          yield [{ cpu_mode: mode }, seconds];
    },
  },
  {
    name: 'system_cpu_utilization_ratio',
    help: 'Fraction of CPU time in each mode since the previous reading (system.cpu.utilization).',
    type: 'gauge',
    labelNames: ['cpu_mode'],
    *samples({ cpuUtilization }) {
      if (cpuUtilization)
        for (const [mode, ratio] of Object.entries(cpuUtilization))
          yield [{ cpu_mode: mode }, ratio];
    },
  },
  {
    name: 'system_cpu_logical_cpus',
    help: 'Logical CPUs of the host (system.cpu.logical.count).',
    type: 'gauge',
    labelNames: [],
    *samples({ cpu }) {
      if (cpu) yield [{}, cpu.logicalCount];
    },
  },
  ...(['1m', '5m', '15m'] as const).map((period, index): HostFamily => ({
    name: `system_cpu_load_average_${period}`,
    help: `Load average over ${period.replace('m', ' minute(s)')} (system.cpu.load_average.${period}).`,
    type: 'gauge',
    labelNames: [],
    *samples({ load }) {
      if (load) yield [{}, load[index]];
    },
  })),
  {
    name: 'system_memory_usage_bytes',
    help: 'Host memory by state, as free(1) counts it (system.memory.usage).',
    type: 'gauge',
    labelNames: ['system_memory_state'],
    *samples({ memory }) {
      if (!memory) return;
      for (const state of ['used', 'free', 'buffers', 'cached'] as const)
        yield [{ system_memory_state: state }, memory[state]];
    },
  },
  {
    name: 'system_memory_limit_bytes',
    help: "Memory the process may use: its cgroup's limit when lower than the host's memory, else the host's memory (system.memory.limit).",
    type: 'gauge',
    labelNames: [],
    *samples({ memoryLimit }) {
      if (memoryLimit !== undefined) yield [{}, memoryLimit];
    },
  },
  {
    name: 'system_memory_cgroup_usage_bytes',
    help: "Memory the process' cgroup uses (memory.current, or memory.usage_in_bytes on cgroup v1).",
    type: 'gauge',
    labelNames: [],
    *samples({ cgroupMemoryUsage }) {
      if (cgroupMemoryUsage !== undefined) yield [{}, cgroupMemoryUsage];
    },
  },
  {
    name: 'system_disk_io_bytes_total',
    help: 'Bytes read from and written to each disk (system.disk.io).',
    type: 'counter',
    labelNames: ['system_device', 'disk_io_direction'],
    *samples({ disks }) {
      for (const disk of disks ?? []) {
        yield [
          { system_device: disk.device, disk_io_direction: 'read' },
          disk.readBytes,
        ];
        yield [
          { system_device: disk.device, disk_io_direction: 'write' },
          disk.writtenBytes,
        ];
      }
    },
  },
  {
    name: 'system_disk_operations_total',
    help: 'Reads and writes completed on each disk (system.disk.operations).',
    type: 'counter',
    labelNames: ['system_device', 'disk_io_direction'],
    *samples({ disks }) {
      for (const disk of disks ?? []) {
        yield [
          { system_device: disk.device, disk_io_direction: 'read' },
          disk.reads,
        ];
        yield [
          { system_device: disk.device, disk_io_direction: 'write' },
          disk.writes,
        ];
      }
    },
  },
  {
    name: 'system_filesystem_usage_bytes',
    help: 'File system space by state: used, free (available to unprivileged users) and reserved (system.filesystem.usage).',
    type: 'gauge',
    labelNames: [
      'system_device',
      'system_filesystem_mountpoint',
      'system_filesystem_type',
      'system_filesystem_state',
    ],
    *samples({ filesystems }) {
      for (const fs of filesystems ?? [])
        for (const state of ['used', 'free', 'reserved'] as const)
          yield [
            {
              system_device: fs.device,
              system_filesystem_mountpoint: fs.mountpoint,
              system_filesystem_type: fs.type,
              system_filesystem_state: state,
            },
            fs[state],
          ];
    },
  },
  ...(
    [
      [
        'system_network_io_bytes_total',
        'bytes',
        'Bytes received and sent on each interface (system.network.io).',
      ],
      [
        'system_network_packets_total',
        'packets',
        'Packets received and sent on each interface (system.network.packets).',
      ],
      [
        'system_network_errors_total',
        'errors',
        'Receive and transmit errors on each interface (system.network.errors).',
      ],
      [
        'system_network_dropped_total',
        'dropped',
        'Packets dropped on each interface (system.network.dropped).',
      ],
    ] as const
  ).map(([name, field, help]): HostFamily => ({
    name,
    help,
    type: 'counter',
    labelNames: ['network_interface_name', 'network_io_direction'],
    *samples({ interfaces }) {
      for (const nic of interfaces ?? [])
        for (const direction of DIRECTIONS)
          yield [
            {
              network_interface_name: nic.name,
              network_io_direction: direction,
            },
            nic[direction][field],
          ];
    },
  })),
];

/** A family whose samples are read when the registry collects (each scrape, push or export). */
export interface CollectedFamilySpec<R> {
  readonly name: string;
  readonly help: string;
  readonly type: 'counter' | 'gauge';
  readonly labelNames: readonly string[];
  readonly samples: (reading: R) => Iterable<Sample>;
}

/**
 * Registers `families` in `registry`, speaking prom-client's metric protocol (`get`, `reset`,
 * `name`, `type`, ...) like the recorder's `FamilyView`: each collection awaits `read()` and
 * writes exactly the samples it yields, so a part that could not be read has no series (a
 * prom-client metric without labels would show 0). Cluster aggregation takes one worker's value:
 * every worker reads the same host.
 */
export function registerCollectedFamilies<R>(
  registry: Registry,
  families: ReadonlyArray<CollectedFamilySpec<R>>,
  read: () => Promise<R | undefined>,
): void {
  for (const family of families) {
    const metric = {
      name: family.name,
      help: family.help,
      type: family.type,
      labelNames: [...family.labelNames],
      aggregator: 'first',
      async get() {
        const reading = await read();
        const values = reading
          ? [...family.samples(reading)].map(([labels, value]) => ({
              labels,
              value,
            }))
          : [];
        return {
          name: family.name,
          help: family.help,
          type: family.type,
          values,
          aggregator: 'first',
        };
      },
      reset() {
        // The values are the host's, read anew at each collection: nothing to reset.
      },
    };
    registry.registerMetric(markLiveState(metric) as never);
  }
}
