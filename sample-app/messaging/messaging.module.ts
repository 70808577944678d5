import { Module } from '@nestjs/common';
import { OrdersModule } from '../orders/orders.module.js';
import { OrdersMessagesController } from './orders-messages.controller.js';

/** Message handlers of the TCP microservice connected in `main.ts`. */
@Module({
  imports: [OrdersModule],
  controllers: [OrdersMessagesController],
})
export class MessagingModule {}
