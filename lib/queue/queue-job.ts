/**
 * The parts of a BullMQ job, worker and processor the library reads. Declared here, by shape, so
 * that nothing in the library imports `bullmq` or `@nestjs/bullmq`: both stay optional.
 */

/** A BullMQ `Job` as handed to `WorkerHost.process()`. */
export interface QueueJob {
  readonly id?: string;
  readonly name: string;
  readonly queueName: string;
  readonly data: unknown;
  /** When the job was added, in milliseconds since the epoch (the producer's clock). */
  readonly timestamp: number;
  /** The delay the job was added with, in milliseconds (0 or undefined when none). */
  readonly delay?: number;
  /** Times the job was moved to active, this attempt included (BullMQ 5+). */
  readonly attemptsStarted?: number;
  /** Attempts that ended (completed or failed) before this one. */
  readonly attemptsMade: number;
}

/** The processing function a BullMQ `Worker` calls for each job. */
export type ProcessJob = (job: QueueJob, ...rest: unknown[]) => unknown;

/** A BullMQ `Worker`, as far as the library uses it. */
export interface QueueWorker {
  readonly name: string;
  /** Non-public: the function the worker calls per job (read at each call); see `compat/bullmq.ts`. */
  processFn?: ProcessJob;
  on(event: 'stalled', listener: (jobId: string) => void): unknown;
  off(event: 'stalled', listener: (jobId: string) => void): unknown;
}

/** An instance of a `@Processor()` class (a `WorkerHost`). */
export interface ProcessorInstance {
  process: ProcessJob;
}
