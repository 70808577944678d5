import type { CollectedFamilySpec } from './host-families.js';
import type { GpuReading } from './gpu-reader.js';

type GpuField = Exclude<keyof GpuReading, 'index' | 'uuid' | 'name'>;

function gpuFamily(
  name: string,
  help: string,
  field: GpuField,
): CollectedFamilySpec<GpuReading[]> {
  return {
    name,
    help,
    type: 'gauge',
    labelNames: ['gpu', 'uuid', 'name'],
    *samples(gpus) {
      for (const gpu of gpus) {
        const value = gpu[field];
        if (value !== undefined)
          yield [{ gpu: gpu.index, uuid: gpu.uuid, name: gpu.name }, value];
      }
    },
  };
}

/** Per NVIDIA GPU, from `nvidia-smi`; a value the GPU does not report has no series. */
export const GPU_FAMILIES: readonly CollectedFamilySpec<GpuReading[]>[] = [
  gpuFamily(
    'gpu_utilization_ratio',
    'Fraction of time a kernel ran on the GPU (nvidia-smi utilization.gpu).',
    'utilization',
  ),
  gpuFamily(
    'gpu_memory_used_bytes',
    'GPU memory in use (nvidia-smi memory.used).',
    'memoryUsedBytes',
  ),
  gpuFamily(
    'gpu_memory_total_bytes',
    'GPU memory in all (nvidia-smi memory.total).',
    'memoryTotalBytes',
  ),
  gpuFamily(
    'gpu_temperature_celsius',
    'GPU core temperature (nvidia-smi temperature.gpu).',
    'temperatureCelsius',
  ),
  gpuFamily(
    'gpu_power_draw_watts',
    'Power drawn by the GPU board (nvidia-smi power.draw).',
    'powerWatts',
  ),
];
