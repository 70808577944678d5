import {
  MessageBody,
  SubscribeMessage,
  WebSocketGateway,
  WsException,
  type WsResponse,
} from '@nestjs/websockets';
import { OrdersService } from '../orders/orders.service.js';
import type { Order } from '../orders/order.js';

/**
 * WebSocket messages on the HTTP port (`ws://localhost:3000`), sent as
 * `{"event":"orders.get","data":1}`.
 */
@WebSocketGateway()
export class OrdersGateway {
  constructor(private readonly orders: OrdersService) {}

  /** `requests_total{transport="ws",method="message",route="orders.get",...}` */
  @SubscribeMessage('orders.get')
  get(@MessageBody() id: number): WsResponse<Order> {
    const order = this.orders
      .findAll()
      .find((candidate) => candidate.id === Number(id));
    if (order === undefined) throw new WsException(`Order ${id} not found`);
    return { event: 'order', data: order };
  }
}
