import { markLiveState } from '../read/registry-state.js';
import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import { DiscoveryService } from '@nestjs/core';
import type { Gauge } from 'prom-client';
import { hasBullMetadata, workerOf } from '../compat/bullmq.js';
import { finishWithin } from '../lifecycle/bounded-shutdown.js';
import { METRICS_RESOLVED_OPTIONS } from '../metrics.constants.js';
import { MetricsService } from '../metrics.service.js';
import type { ResolvedMetricsOptions } from '../interfaces/metrics-module-options.interface.js';
import {
  QUEUE_DEPTH_FAMILIES,
  QUEUE_JOB_STATES,
  QueueDepthReader,
  type DepthQueue,
} from './queue-depth.js';
import type { ProcessorInstance } from './queue-job.js';

/** How long `app.close()` waits for a queue the library opened itself to close. */
const CLOSE_TIMEOUT_MS = 1000;

/** A `Queue` the library opened for a processor whose queue the app did not register. */
interface OwnQueue extends DepthQueue {
  close(): Promise<void>;
  disconnect(): Promise<void>;
}

/**
 * `queue_jobs{queue, state}` and `queue_workers{queue}` for every BullMQ queue of the app: the
 * queues it provides (`BullModule.registerQueue()`, what `@InjectQueue()` injects) and the queue of
 * every `@Processor()`. For a processor whose queue is not provided, a `Queue` is opened on the
 * worker's connection settings and closed at shutdown. The values are read when scraped
 * (`QueueDepthReader`).
 */
@Injectable()
export class QueueDepthLifecycle
  implements OnApplicationBootstrap, OnModuleDestroy
{
  private reader: QueueDepthReader | undefined;
  private readonly ownQueues: OwnQueue[] = [];

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly service: MetricsService,
    @Inject(METRICS_RESOLVED_OPTIONS)
    private readonly options: ResolvedMetricsOptions,
  ) {}

  /** The names of the queues whose depth is read (empty when off or without queues). */
  get queueNames(): string[] {
    return this.reader?.queueNames ?? [];
  }

  async onApplicationBootstrap(): Promise<void> {
    const settings = this.options.queueDepth;
    if (!this.options.enabled || settings === undefined) return;
    const queues = await this.findQueues();
    if (queues.length === 0) return;
    const reader = new QueueDepthReader(queues, settings);
    this.reader = reader;
    const { jobs: jobsFamily, workers: workersFamily } = QUEUE_DEPTH_FAMILIES;
    // Both families share the reader's cached round: one reading per queue serves both.
    const jobs: Gauge<'queue' | 'state'> = this.service.gauge(jobsFamily.name, {
      help: jobsFamily.help,
      labelNames: jobsFamily.labels,
      // Every process reads the same Redis: `node:cluster` workers' values are not added up.
      aggregator: 'max',
      async collect() {
        const readings = await reader.readings();
        jobs.reset();
        for (const [queue, reading] of readings)
          for (const state of QUEUE_JOB_STATES)
            jobs.set({ queue, state }, reading.jobs[state]);
      },
    });
    const workers: Gauge<'queue'> = this.service.gauge(workersFamily.name, {
      help: workersFamily.help,
      labelNames: workersFamily.labels,
      aggregator: 'max',
      async collect() {
        const readings = await reader.readings();
        workers.reset();
        for (const [queue, reading] of readings)
          workers.set({ queue }, reading.workers);
      },
    });
    markLiveState(jobs);
    markLiveState(workers);
  }

  async onModuleDestroy(): Promise<void> {
    this.reader?.close();
    await Promise.all(
      this.ownQueues.splice(0).map((queue) =>
        finishWithin(CLOSE_TIMEOUT_MS, async (signal) => {
          signal.addEventListener('abort', () => {
            queue.disconnect().catch(() => undefined);
          });
          await queue.close();
        }),
      ),
    );
  }

  private async findQueues(): Promise<DepthQueue[]> {
    const byName = new Map<string, DepthQueue>();
    const workers: { name: string; opts?: WorkerSettings }[] = [];
    for (const wrapper of this.discovery.getProviders()) {
      if (wrapper.isAlias || !wrapper.isDependencyTreeStatic()) continue;
      const instance = wrapper.instance as unknown;
      if (isDepthQueue(instance)) {
        if (!byName.has(instance.name)) byName.set(instance.name, instance);
        continue;
      }
      if (
        instance !== null &&
        typeof instance === 'object' &&
        hasBullMetadata(instance.constructor)
      ) {
        const worker = workerOf(instance as ProcessorInstance) as
          { name: string; opts?: WorkerSettings } | undefined;
        if (worker !== undefined) workers.push(worker);
      }
    }
    for (const worker of workers) {
      if (byName.has(worker.name)) continue;
      const queue = await this.openQueue(worker);
      if (queue !== undefined) byName.set(worker.name, queue);
    }
    return [...byName.values()];
  }

  private async openQueue(worker: {
    name: string;
    opts?: WorkerSettings;
  }): Promise<OwnQueue | undefined> {
    try {
      const { Queue } = await import('bullmq');
      const connection = worker.opts?.connection;
      const queue = new Queue(worker.name, {
        // A connection the app made is not shared: closing this queue must not close it.
        connection: (isClient(connection)
          ? { ...connection.options }
          : connection) as never,
        ...(worker.opts?.prefix !== undefined
          ? { prefix: worker.opts.prefix }
          : {}),
      });
      queue.on('error', () => undefined);
      this.ownQueues.push(queue);
      return queue;
    } catch (error) {
      new Logger('MetricsModule').warn(
        `nestjs-metrics: no queue could be opened for the processor of "${worker.name}" (${String(error)}); its queue_jobs and queue_workers are not exported.`,
      );
      return undefined;
    }
  }
}

interface WorkerSettings {
  connection?: unknown;
  prefix?: string;
}

/** A BullMQ `Queue`, by the public methods the reader calls. */
function isDepthQueue(value: unknown): value is DepthQueue {
  return (
    value !== null &&
    typeof value === 'object' &&
    typeof (value as DepthQueue).name === 'string' &&
    typeof (value as DepthQueue).getJobCounts === 'function' &&
    typeof (value as DepthQueue).getWorkersCount === 'function'
  );
}

/** An ioredis client (its settings are in `options`). */
function isClient(value: unknown): value is { options: object } {
  return (
    value !== null &&
    typeof value === 'object' &&
    typeof (value as { duplicate?: unknown }).duplicate === 'function' &&
    typeof (value as { options?: unknown }).options === 'object'
  );
}
