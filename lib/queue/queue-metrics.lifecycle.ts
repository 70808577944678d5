import {
  Inject,
  Injectable,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
  type OnModuleInit,
} from '@nestjs/common';
import { DiscoveryService, ModulesContainer } from '@nestjs/core';
import type { InstanceWrapper } from '@nestjs/core/injector/instance-wrapper.js';
import {
  checkProcessorKey,
  hasBullMetadata,
  processorMetadataKey,
  workerOf,
  wrapProcessFn,
} from '../compat/bullmq.js';
import { reportDegraded } from '../compat/degraded.js';
import { onInstanceCreated, runHooksFirst } from '../compat/nest.js';
import {
  METRICS_RESOLVED_OPTIONS,
  QUEUE_WAIT_LABELS,
  QUEUE_WAIT_METRIC,
} from '../metrics.constants.js';
import { MetricsService } from '../metrics.service.js';
import { RequestMetrics } from '../recorder/request-metrics.js';
import type { ResolvedMetricsOptions } from '../interfaces/metrics-module-options.interface.js';
import { QueueInstrumentation } from './queue-instrumentation.js';
import type { ProcessorInstance, QueueWorker } from './queue-job.js';
import { handlerContextSwitch } from '../context/handler-context.js';

/** Job name used for a stalled job that was removed before its name could be read. */
const UNKNOWN_JOB = 'unknown';

interface FoundProcessor {
  readonly wrapper: InstanceWrapper;
  readonly instance: ProcessorInstance;
  readonly isStatic: boolean;
  /** Its jobs are measured by a wrapped `process` on the instance(s) the worker calls. */
  measuredOnInstance: boolean;
}

/**
 * Measures every `@Processor()` of `@nestjs/bullmq` (found by its metadata key, so neither package
 * is imported unless a processor exists), whatever the order of the imports.
 *
 * `@nestjs/bullmq` binds `instance.process` into a new `Worker` in its own `onModuleInit`, and the
 * worker may start jobs already waiting in Redis at once. So when the app has processors, the
 * metrics module's lifecycle hooks are moved before every other module's (and its shutdown hooks
 * after theirs): here `process` is wrapped on the processor instance before any worker exists
 * (for a request-scoped processor, on each instance as Nest creates it, per job). Only where that
 * move is not possible (Nest's module shape changed) is the worker's own processing function
 * wrapped once the worker exists, with one warning that jobs started before may be missed.
 */
@Injectable()
export class QueueMetricsLifecycle
  implements OnModuleInit, OnApplicationBootstrap, OnModuleDestroy
{
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
    modules: ModulesContainer,
  ) {
    if (!options.enabled || !this.hasProcessors()) return;
    if (!runHooksFirst(modules.values(), QueueMetricsLifecycle))
      reportDegraded({
        internal: '@nestjs/core: Module.distance (lifecycle hook order)',
        loss: 'when BullModule starts before the metrics module, jobs its workers start before the metrics module does are not measured',
      });
  }

  /** The processors found at start-up (empty without `@nestjs/bullmq`). */
  get processorCount(): number {
    return this.processors.length;
  }

  async onModuleInit(): Promise<void> {
    if (!this.options.enabled) return;
    const seen = this.discovery
      .getProviders()
      .some((wrapper) => hasBullMetadata(classOf(wrapper)));
    await checkProcessorKey(seen);
    this.processors = this.findProcessors();
    if (this.processors.length === 0) return;
    this.instrumentation = new QueueInstrumentation(
      this.metrics,
      this.service.histogram(QUEUE_WAIT_METRIC, {
        help: 'Time jobs waited from being ready (added, plus their delay) until their first attempt started, in seconds.',
        labelNames: [...QUEUE_WAIT_LABELS],
        buckets: [...this.options.queueWaitBuckets],
      }),
      handlerContextSwitch(this.options),
    );
    for (const processor of this.processors) {
      const worker = workerOf(processor.instance);
      if (worker !== undefined) {
        // The worker exists already: the hooks could not be moved first.
        wrapProcessFn(worker, (process) => this.instrumentation!.wrap(process));
      } else if (processor.isStatic) {
        this.wrapInstance(processor.instance);
        processor.measuredOnInstance = true;
      } else {
        processor.measuredOnInstance = onInstanceCreated(
          processor.wrapper,
          (instance) => this.wrapInstance(instance as ProcessorInstance),
        );
      }
    }
  }

  onApplicationBootstrap(): void {
    if (this.instrumentation === undefined) return;
    for (const processor of this.processors) {
      const worker = workerOf(processor.instance);
      if (worker === undefined) continue;
      if (
        !processor.measuredOnInstance &&
        !QueueInstrumentation.isMeasured(worker.processFn)
      )
        wrapProcessFn(worker, (process) => this.instrumentation!.wrap(process));
      this.listenForStalled(worker);
    }
  }

  onModuleDestroy(): void {
    for (const [worker, listener] of this.stalledListeners)
      worker.off('stalled', listener);
    this.stalledListeners.clear();
  }

  private hasProcessors(): boolean {
    return this.discovery.getProviders().some(isProcessor);
  }

  private findProcessors(): FoundProcessor[] {
    const found: FoundProcessor[] = [];
    for (const wrapper of this.discovery.getProviders()) {
      if (wrapper.isAlias || !isProcessor(wrapper)) continue;
      const instance = wrapper.instance as ProcessorInstance | undefined;
      if (instance === undefined || typeof instance.process !== 'function')
        continue;
      found.push({
        wrapper,
        instance,
        isStatic: wrapper.isDependencyTreeStatic(),
        measuredOnInstance: false,
      });
    }
    return found;
  }

  private wrapInstance(instance: ProcessorInstance): void {
    instance.process = this.instrumentation!.wrap(instance.process);
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

/** The class of a provider: factory and value providers are read from the instance's class. */
function classOf(wrapper: InstanceWrapper): unknown {
  return !wrapper.metatype || wrapper.inject
    ? (wrapper.instance as object | undefined)?.constructor
    : wrapper.metatype;
}

/** The same test `@nestjs/bullmq` uses. */
function isProcessor(wrapper: InstanceWrapper): boolean {
  const target = classOf(wrapper);
  return (
    typeof target === 'function' &&
    Reflect.getMetadata(processorMetadataKey(), target) !== undefined
  );
}
