/**
 * What the library reads of `@nestjs/bullmq` and `bullmq` beyond their documented API: the
 * metadata key of `@Processor()` and a worker's processing function (`worker.processFn`). The
 * worker itself is read through the public `WorkerHost.worker` getter. Nothing here imports either
 * package unless the app has loaded it already.
 */
import { reportDegraded } from './degraded.js';
import type {
  ProcessJob,
  ProcessorInstance,
  QueueWorker,
} from '../queue/queue-job.js';

/** The metadata key `@Processor()` sets on the class, as this version expects it. */
export const EXPECTED_PROCESSOR_METADATA = 'bullmq:processor_metadata';

let processorKey = EXPECTED_PROCESSOR_METADATA;

/** The key `@Processor()` stores its metadata under (checked by `checkProcessorKey`). */
export function processorMetadataKey(): string {
  return processorKey;
}

/**
 * Checks the key against a probe decorated with `@Processor()`, when a `bullmq:` key was seen on
 * a class (so `@nestjs/bullmq` is loaded already). Returns true when the key changed.
 */
export async function checkProcessorKey(seen: boolean): Promise<boolean> {
  if (!seen) return false;
  try {
    const { Processor } = await import('@nestjs/bullmq');
    class Probe {}
    Processor('nestjs-metrics-probe')(Probe);
    // `@Processor()` sets more than one key holding its options: the expected one wins, else the
    // package's own prefix.
    const holding = Reflect.getOwnMetadataKeys(Probe).filter(
      (key): key is string =>
        typeof key === 'string' &&
        (Reflect.getOwnMetadata(key, Probe) as { name?: unknown } | undefined)
          ?.name === 'nestjs-metrics-probe',
    );
    const found = holding.includes(EXPECTED_PROCESSOR_METADATA)
      ? EXPECTED_PROCESSOR_METADATA
      : holding.find((key) => key.startsWith('bullmq:'));
    if (found === undefined) {
      reportDegraded({
        internal: '@nestjs/bullmq: the @Processor() metadata key',
        loss: `processors are looked for under "${EXPECTED_PROCESSOR_METADATA}"; those it misses are not measured (transport "queue")`,
      });
      return false;
    }
    const changed = found !== processorKey;
    processorKey = found;
    return changed;
  } catch {
    return false;
  }
}

/** True when `@nestjs/bullmq` set metadata on the class (a key with its prefix). */
export function hasBullMetadata(target: unknown): boolean {
  return (
    typeof target === 'function' &&
    Reflect.getMetadataKeys(target).some(
      (key) => typeof key === 'string' && key.startsWith('bullmq:'),
    )
  );
}

/** The processor's worker once `@nestjs/bullmq` made it, through the public getter. */
export function workerOf(instance: ProcessorInstance): QueueWorker | undefined {
  try {
    return (instance as { worker?: QueueWorker }).worker ?? undefined;
  } catch {
    // The getter throws until the worker exists.
    return undefined;
  }
}

/**
 * Replaces the function a worker calls per job (`Worker.processFn`, which the worker reads at each
 * job) with `wrap(it)`. Returns false, after one warning, when the worker has none.
 */
export function wrapProcessFn(
  worker: QueueWorker,
  wrap: (process: ProcessJob) => ProcessJob,
): boolean {
  if (typeof worker.processFn !== 'function') {
    reportDegraded({
      internal: 'bullmq: Worker.processFn',
      loss: `jobs of queues whose worker existed before the metrics module started (queue "${worker.name}") are not measured`,
    });
    return false;
  }
  worker.processFn = wrap(worker.processFn);
  return true;
}
