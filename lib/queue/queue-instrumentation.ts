import { RecordingFailureLog } from '../recorder/recording-failure-log.js';
import type { Histogram } from 'prom-client';
import type {
  RequestMetrics,
  RouteSeries,
} from '../recorder/request-metrics.js';
import type { ErrorType } from '../recorder/request-record.js';
import { payloadBytes } from '../recorder/payload-bytes.js';
import { isControlFlowError, queueErrorType } from './queue-error-type.js';
import type { ProcessJob, QueueJob } from './queue-job.js';
import {
  type HandlerContextSwitch,
  runInHandlerContext,
} from '../context/handler-context.js';

const MEASURED = Symbol('nestjs-metrics:measured-job');

/** A processing function the library already measures. */
type MeasuredJob = ProcessJob & { [MEASURED]?: true };

interface Attempt {
  readonly series: RouteSeries;
  readonly startedAt: number;
}

/**
 * Measures job attempts: each call of the processing function is one request of transport `queue`
 * (route = queue name, method = job name). Recording never changes what the job returns or throws.
 */
export class QueueInstrumentation {
  private readonly waitByRoute = new WeakMap<
    RouteSeries,
    { observe(seconds: number): void }
  >();
  private readonly failures = new RecordingFailureLog();

  constructor(
    private readonly metrics: RequestMetrics,
    private readonly waitHistogram: Histogram<string>,
    /** On once a metric of this app asks for `handlerLabels`. */
    private readonly handlerContext?: HandlerContextSwitch,
  ) {
    metrics.declareTransport('queue');
  }

  /** True when `process` is already a measuring wrapper. */
  static isMeasured(process: unknown): boolean {
    return (
      typeof process === 'function' &&
      (process as MeasuredJob)[MEASURED] === true
    );
  }

  /**
   * A measuring wrapper of `process`. It keeps the function's `length`: BullMQ passes an abort
   * signal only to processing functions that declare a third parameter.
   */
  wrap(process: ProcessJob): ProcessJob {
    if (QueueInstrumentation.isMeasured(process)) return process;
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const instrumentation = this;
    const measured: MeasuredJob = function (
      this: unknown,
      job: QueueJob,
      ...rest: unknown[]
    ) {
      return instrumentation.measure(job, rest[1], () =>
        process.call(this, job, ...rest),
      );
    };
    Object.defineProperty(measured, 'length', { value: process.length });
    Object.defineProperty(measured, 'name', { value: process.name });
    Object.defineProperty(measured, MEASURED, { value: true });
    return measured;
  }

  /** Counts a job whose lock expired while active: `errors_total{error_type="stalled"}`. */
  recordStalled(queueName: string, jobName: string): void {
    try {
      this.metrics.recordError(
        this.metrics.route('queue', jobName, queueName),
        'stalled',
      );
    } catch (error) {
      this.failures.report(error);
    }
  }

  private async measure(
    job: QueueJob,
    signal: unknown,
    run: () => unknown,
  ): Promise<unknown> {
    const attempt = this.begin(job);
    let result: unknown;
    try {
      result = await (attempt !== undefined && this.handlerContext?.on === true
        ? runInHandlerContext(
            { transport: 'queue', route: attempt.series.route },
            run,
          )
        : run());
    } catch (error) {
      if (attempt !== undefined) {
        const failed = !isControlFlowError(error);
        this.end(
          attempt,
          job,
          undefined,
          failed
            ? queueErrorType(
                error,
                signal instanceof AbortSignal ? signal : undefined,
              )
            : undefined,
        );
      }
      throw error;
    }
    if (attempt !== undefined) this.end(attempt, job, result, undefined);
    return result;
  }

  private begin(job: QueueJob): Attempt | undefined {
    const startedAt = performance.now();
    try {
      const series = this.metrics.route('queue', job.name, job.queueName);
      this.metrics.started('queue');
      if (isFirstAttempt(job)) {
        this.waitOf(series).observe(waitSeconds(job, Date.now()));
      }
      return { series, startedAt };
    } catch (error) {
      this.failures.report(error);
      return undefined;
    }
  }

  private end(
    attempt: Attempt,
    job: QueueJob,
    result: unknown,
    errorType: ErrorType | undefined,
  ): void {
    const durationSeconds = (performance.now() - attempt.startedAt) / 1000;
    this.metrics.ended('queue');
    try {
      this.metrics.record(attempt.series, {
        status: errorType === undefined ? 'ok' : 'error',
        durationSeconds,
        requestBytes: payloadBytes(job.data),
        responseBytes: errorType === undefined ? payloadBytes(result) : 0,
        errorType,
      });
    } catch (error) {
      this.failures.report(error);
    }
  }

  // Labels come from the resolved series, so the wait shares whatever `route()` made of the names.
  private waitOf(series: RouteSeries): { observe(seconds: number): void } {
    let child = this.waitByRoute.get(series);
    if (child === undefined) {
      child = this.waitHistogram.labels({
        queue: series.route,
        job_name: series.method,
      });
      this.waitByRoute.set(series, child);
    }
    return child;
  }
}

/** The wait is observed once per job: a retry waited for its backoff, not in the queue. */
function isFirstAttempt(job: QueueJob): boolean {
  return job.attemptsStarted !== undefined
    ? job.attemptsStarted <= 1
    : job.attemptsMade === 0;
}

/**
 * Seconds from when the job became ready (added, plus its delay) until now. Clamped at 0: the
 * timestamp comes from the producer's clock, which may run ahead of this one.
 */
export function waitSeconds(job: QueueJob, nowMs: number): number {
  const readyAt = job.timestamp + (job.delay ?? 0);
  return Math.max(0, nowMs - readyAt) / 1000;
}
