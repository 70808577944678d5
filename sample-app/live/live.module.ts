import { Module } from '@nestjs/common';
import { OrdersModule } from '../orders/orders.module.js';
import { OrdersGateway } from './orders.gateway.js';

/** The WebSocket gateway, served by `WsAdapter` on the HTTP server. */
@Module({
  imports: [OrdersModule],
  providers: [OrdersGateway],
})
export class LiveModule {}
