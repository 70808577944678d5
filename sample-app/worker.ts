import 'reflect-metadata';
import { Logger, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { MetricsModule, MetricsServer } from '../lib/index.js';

/**
 * A queue worker without HTTP: it processes the report jobs and serves its metrics on the
 * dedicated metrics port (`METRICS_PORT`, default 9464).
 */
async function bootstrap(): Promise<void> {
  const redisUrl = process.env.REDIS_URL;
  if (!redisUrl) throw new Error('Set REDIS_URL, e.g. redis://127.0.0.1:6379');
  const { ReportJobsModule } =
    await import('./report-jobs/report-jobs.module.js');

  @Module({
    imports: [
      MetricsModule.forRoot({
        port: Number(process.env.METRICS_PORT ?? 9464),
        host: process.env.METRICS_HOST,
        defaultLabels: { service: 'sample-worker' },
      }),
      ReportJobsModule.forRoot({ redisUrl, producer: false }),
    ],
  })
  class WorkerModule {}

  const app = await NestFactory.createApplicationContext(WorkerModule);
  app.enableShutdownHooks();
  new Logger('SampleWorker').log(
    `Processing report jobs; metrics at http://localhost:${app.get(MetricsServer).port}/metrics`,
  );
}

void bootstrap();
