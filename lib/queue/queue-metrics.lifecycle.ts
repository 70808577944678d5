import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
  type OnModuleInit,
} from '@nestjs/common';
import { DiscoveryService } from '@nestjs/core';
import type { InstanceWrapper } from '@nestjs/core/injector/instance-wrapper.js';
import {
  METRICS_RESOLVED_OPTIONS,
  QUEUE_WAIT_LABELS,
  QUEUE_WAIT_METRIC,
} from '../metrics.constants.js';
import { MetricsService } from '../metrics.service.js';
import { RequestMetrics } from '../recorder/request-metrics.js';
import type { ResolvedMetricsOptions } from '../interfaces/metrics-module-options.interface.js';
import { QueueInstrumentation } from './queue-instrumentation.js';
import {
  PROCESSOR_METADATA,
  type ProcessorInstance,
  type QueueWorker,
} from './queue-job.js';

/** Job name used for a stalled job that was removed before its name could be read. */
const UNKNOWN_JOB = 'unknown';

interface FoundProcessor {
  readonly instance: ProcessorInstance;
  readonly isStatic: boolean;
}

/**
 * Measures every `@Processor()` of `@nestjs/bullmq` (found by its metadata key, so neither package
 * is imported unless a processor exists).
 *
 * `@nestjs/bullmq` binds `instance.process` into a new `Worker` in its own `onModuleInit`. When this
 * hook runs first (the worker does not exist yet), `process` is wrapped on the instance and the
 * worker binds the wrapper. When the worker already exists (its module's hooks ran first, or the
 * processor is request-scoped), the worker's processing function is wrapped instead: the worker
 * reads it at each job. Fetching a job takes Redis round trips, so none has started unless an
 * `onModuleInit` hook that ran between the two waited for I/O.
 */
@Injectable()
export class QueueMetricsLifecycle
  implements OnModuleInit, OnApplicationBootstrap, OnModuleDestroy
{
  private readonly logger = new Logger('MetricsModule');
  private instrumentation: QueueInstrumentation | undefined;
  private processors: FoundProcessor[] = [];
  private readonly stalledListeners = new Map<
    QueueWorker,
    (jobId: string) => void
  >();

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly metrics: RequestMetrics,
    private readonly service: MetricsService,
    @Inject(METRICS_RESOLVED_OPTIONS)
    private readonly options: ResolvedMetricsOptions,
  ) {}

  /** The processors found at start-up (empty without `@nestjs/bullmq`). */
  get processorCount(): number {
    return this.processors.length;
  }

  onModuleInit(): void {
    if (!this.options.enabled) return;
    this.processors = this.findProcessors();
    if (this.processors.length === 0) return;
    this.instrumentation = new QueueInstrumentation(
      this.metrics,
      this.service.histogram(QUEUE_WAIT_METRIC, {
        help: 'Time jobs waited from being ready (added, plus their delay) until their first attempt started, in seconds.',
        labelNames: [...QUEUE_WAIT_LABELS],
        buckets: [...this.options.queueWaitBuckets],
      }),
    );
    for (const processor of this.processors) {
      const worker = processor.instance._worker;
      if (worker !== undefined) this.wrapWorker(worker);
      else if (processor.isStatic) this.wrapInstance(processor.instance);
    }
  }

  onApplicationBootstrap(): void {
    if (this.instrumentation === undefined) return;
    for (const { instance } of this.processors) {
      const worker = instance._worker;
      if (worker === undefined) continue;
      if (!QueueInstrumentation.isMeasured(instance.process))
        this.wrapWorker(worker);
      this.listenForStalled(worker);
    }
  }

  onModuleDestroy(): void {
    for (const [worker, listener] of this.stalledListeners)
      worker.off('stalled', listener);
    this.stalledListeners.clear();
  }

  private findProcessors(): FoundProcessor[] {
    const found: FoundProcessor[] = [];
    for (const wrapper of this.discovery.getProviders()) {
      if (wrapper.isAlias || !isProcessor(wrapper)) continue;
      const instance = wrapper.instance as ProcessorInstance | undefined;
      if (instance === undefined || typeof instance.process !== 'function')
        continue;
      found.push({ instance, isStatic: wrapper.isDependencyTreeStatic() });
    }
    return found;
  }

  private wrapInstance(instance: ProcessorInstance): void {
    instance.process = this.instrumentation!.wrap(instance.process);
  }

  private wrapWorker(worker: QueueWorker): void {
    if (typeof worker.processFn !== 'function') {
      this.logger.warn(
        `Jobs of queue "${worker.name}" are not measured: its worker has no processing function to wrap.`,
      );
      return;
    }
    worker.processFn = this.instrumentation!.wrap(worker.processFn);
  }

  private listenForStalled(worker: QueueWorker): void {
    if (this.stalledListeners.has(worker)) return;
    const listener = (jobId: string) => {
      void this.recordStalled(worker, jobId);
    };
    worker.on('stalled', listener);
    this.stalledListeners.set(worker, listener);
  }

  private async recordStalled(
    worker: QueueWorker,
    jobId: string,
  ): Promise<void> {
    let jobName = UNKNOWN_JOB;
    try {
      const { Job } = await import('bullmq');
      const job = await Job.fromId(worker as never, jobId);
      if (job !== undefined) jobName = job.name;
    } catch {
      // The job's name is only a label; the stall is counted without it.
    }
    this.instrumentation?.recordStalled(worker.name, jobName);
  }
}

/** The same test `@nestjs/bullmq` uses: factory and value providers are read from the instance's class. */
function isProcessor(wrapper: InstanceWrapper): boolean {
  const target =
    !wrapper.metatype || wrapper.inject
      ? (wrapper.instance as object | undefined)?.constructor
      : wrapper.metatype;
  return (
    typeof target === 'function' &&
    Reflect.getMetadata(PROCESSOR_METADATA, target) !== undefined
  );
}
