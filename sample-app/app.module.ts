import { Module } from '@nestjs/common';
import { MetricsModule } from '../lib/index.js';
import { AdminModule } from './admin/admin.module.js';
import { DemoModule } from './demo/demo.module.js';
import { HealthModule } from './health/health.module.js';
import { LiveModule } from './live/live.module.js';
import { MessagingModule } from './messaging/messaging.module.js';
import { OrdersModule } from './orders/orders.module.js';
import { ReportsModule } from './reports/reports.module.js';
import { reportJobsImports } from './report-jobs/report-jobs.loader.js';

@Module({
  imports: [
    MetricsModule.forRootAsync({
      useFactory: () => ({
        defaultLabels: { service: 'sample-app' },
        excludePaths: ['/health'],
      }),
    }),
    OrdersModule,
    AdminModule,
    ReportsModule,
    DemoModule,
    HealthModule,
    MessagingModule,
    LiveModule,
    ...(await reportJobsImports()),
  ],
})
export class AppModule {}
