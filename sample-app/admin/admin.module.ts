import { Module } from '@nestjs/common';
import { OrdersModule } from '../orders/orders.module.js';
import { AdminTokenGuard } from './admin-token.guard.js';
import { AdminController } from './admin.controller.js';

@Module({
  imports: [OrdersModule],
  controllers: [AdminController],
  providers: [AdminTokenGuard],
})
export class AdminModule {}
