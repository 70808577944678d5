import { Module, type DynamicModule } from '@nestjs/common';
import { BullModule } from '@nestjs/bullmq';
import { REPORT_QUEUE, redisConnection } from './report-job.js';
import { ReportJobsController } from './report-jobs.controller.js';
import { ReportJobsProcessor } from './report-jobs.processor.js';

export interface ReportJobsOptions {
  redisUrl: string;
  /** Serve `POST /reports/jobs`. Default `true`. */
  producer?: boolean;
  /** Process the jobs in this process. Default `true`. */
  processor?: boolean;
}

/** The report queue: a producer route and a processor, on the Redis at `redisUrl`. */
@Module({})
export class ReportJobsModule {
  static forRoot(options: ReportJobsOptions): DynamicModule {
    return {
      module: ReportJobsModule,
      imports: [
        BullModule.forRoot({ connection: redisConnection(options.redisUrl) }),
        BullModule.registerQueue({ name: REPORT_QUEUE }),
      ],
      controllers: options.producer === false ? [] : [ReportJobsController],
      providers: options.processor === false ? [] : [ReportJobsProcessor],
    };
  }
}
