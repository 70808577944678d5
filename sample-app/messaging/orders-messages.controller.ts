import { Controller, NotFoundException } from '@nestjs/common';
import {
  EventPattern,
  MessagePattern,
  Payload,
  RpcException,
} from '@nestjs/microservices';
import { MetricsService } from '../../lib/index.js';
import { OrdersService } from '../orders/orders.service.js';
import type { Order } from '../orders/order.js';

/** The order book over the TCP microservice (`MICROSERVICE_PORT`, default 3001). */
@Controller()
export class OrdersMessagesController {
  private readonly views;

  constructor(
    private readonly orders: OrdersService,
    metrics: MetricsService,
  ) {
    this.views = metrics.counter('order_views_total', {
      help: 'Orders viewed, as reported by `orders.viewed` events.',
    });
  }

  /** `requests_total{transport="rpc",method="message",route="orders.get",...}` */
  @MessagePattern('orders.get')
  get(@Payload() id: number): Order {
    try {
      return this.orders.findOne(Number(id));
    } catch (error) {
      if (error instanceof NotFoundException)
        throw new RpcException(`Order ${id} not found`);
      throw error;
    }
  }

  /** An object pattern: `route="{\"cmd\":\"count\",\"resource\":\"orders\"}"`. */
  @MessagePattern({ resource: 'orders', cmd: 'count' })
  count(): number {
    return this.orders.findAll().length;
  }

  /** An event: `method="event"`, no reply. */
  @EventPattern('orders.viewed')
  viewed(@Payload() _id: number): void {
    this.views.inc();
  }
}
