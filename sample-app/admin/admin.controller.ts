import { Controller, Get, Header, UseGuards } from '@nestjs/common';
import { MetricsService } from '../../lib/index.js';
import { OrdersService } from '../orders/orders.service.js';
import { AdminTokenGuard } from './admin-token.guard.js';

@Controller('admin')
@UseGuards(AdminTokenGuard)
export class AdminController {
  constructor(
    private readonly orders: OrdersService,
    private readonly metrics: MetricsService,
  ) {}

  @Get('stats')
  stats() {
    return {
      orders: this.orders.stats(),
      uptimeSeconds: Math.round(process.uptime()),
    };
  }

  /** The registry's exposition text, the same that `/metrics` serves. */
  @Get('metrics')
  @Header('Content-Type', 'text/plain; version=0.0.4; charset=utf-8')
  exposition(): Promise<string> {
    return this.metrics.metrics();
  }
}
