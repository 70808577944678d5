import { setTimeout as sleep } from 'node:timers/promises';
import { Processor, WorkerHost } from '@nestjs/bullmq';
import type { Job } from 'bullmq';
import {
  MAX_REPORT_ROWS,
  REPORT_QUEUE,
  type ReportJobData,
  type ReportJobResult,
} from './report-job.js';

/**
 * Builds reports off the request path. MetricsModule measures it with no code here: each attempt
 * is a `transport="queue"` request, and the time a job waited is in `queue_wait_seconds`.
 */
@Processor(REPORT_QUEUE, { concurrency: 2 })
export class ReportJobsProcessor extends WorkerHost {
  async process(job: Job<ReportJobData>): Promise<ReportJobResult> {
    const { rows } = job.data;
    if (rows > MAX_REPORT_ROWS) {
      throw new Error(`a report has at most ${MAX_REPORT_ROWS} rows`);
    }
    await sleep(Math.min(2_000, rows / 10));
    return { rows, bytes: rows * 42 };
  }
}
