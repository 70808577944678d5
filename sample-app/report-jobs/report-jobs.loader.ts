import type { DynamicModule } from '@nestjs/common';

/**
 * The report queue when `REDIS_URL` is set, nothing otherwise. The module is imported only then,
 * so without Redis the sample loads nothing from `bullmq`.
 */
export async function reportJobsImports(
  redisUrl = process.env.REDIS_URL,
): Promise<DynamicModule[]> {
  if (!redisUrl) return [];
  const { ReportJobsModule } = await import('./report-jobs.module.js');
  return [ReportJobsModule.forRoot({ redisUrl })];
}
