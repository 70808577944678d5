import {
  BadRequestException,
  Body,
  Controller,
  HttpCode,
  Post,
} from '@nestjs/common';
import { InjectQueue } from '@nestjs/bullmq';
import type { Queue } from 'bullmq';
import {
  BUILD_REPORT,
  REPORT_QUEUE,
  type ReportJobData,
} from './report-job.js';

@Controller('reports/jobs')
export class ReportJobsController {
  constructor(
    @InjectQueue(REPORT_QUEUE) private readonly queue: Queue<ReportJobData>,
  ) {}

  /** Enqueues a report build; `{ "rows": 1000 }`. */
  @Post()
  @HttpCode(202)
  async enqueue(@Body() body: { rows?: unknown }): Promise<{ id: string }> {
    const rows = body?.rows ?? 1_000;
    if (typeof rows !== 'number' || !Number.isInteger(rows) || rows < 1) {
      throw new BadRequestException('rows must be a positive integer');
    }
    const job = await this.queue.add(BUILD_REPORT, { rows }, { attempts: 2 });
    return { id: job.id! };
  }
}
