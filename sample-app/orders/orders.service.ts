import { Injectable, NotFoundException } from '@nestjs/common';
import { Counted, MetricsService, Timed } from '../../lib/index.js';
import type { CreateOrderDto } from './create-order.dto.js';
import type { Order, Product } from './order.js';

/** An in-memory order book that reports its business metrics. */
@Injectable()
export class OrdersService {
  private readonly orders = new Map<number, Order>();
  private nextId = 1;

  // Typed by their assignment in the constructor, where `metrics` is already set.
  private readonly itemsOrdered;
  private readonly openOrders;
  private readonly orderQuantity;

  constructor(metrics: MetricsService) {
    this.itemsOrdered = metrics.counter('order_items_total', {
      help: 'Items ordered, by product.',
      labelNames: ['product'],
    });
    this.openOrders = metrics.gauge('open_orders', {
      help: 'Orders currently open.',
    });
    this.orderQuantity = metrics.summary('order_quantity', {
      help: 'Items per order.',
      percentiles: [0.5, 0.9, 0.99],
    });
    this.store({ product: 'book', quantity: 2 });
    this.store({ product: 'mug', quantity: 1, note: 'gift wrap' });
  }

  findAll(): Order[] {
    return [...this.orders.values()];
  }

  /** Throws `NotFoundException` (a 404) when there is no such order. */
  @Timed()
  findOne(id: number): Order {
    const order = this.orders.get(id);
    if (order === undefined) {
      throw new NotFoundException(`Order ${id} not found`);
    }
    return order;
  }

  @Counted('orders_created_total', {
    help: 'Orders created through the API.',
    labels: { channel: 'api' },
  })
  create(dto: CreateOrderDto): Order {
    const order = this.store(dto);
    this.itemsOrdered.inc({ product: order.product }, order.quantity);
    this.orderQuantity.observe(order.quantity);
    return order;
  }

  remove(id: number): void {
    this.findOne(id);
    this.orders.delete(id);
    this.openOrders.set(this.orders.size);
  }

  stats(): { open: number; items: Partial<Record<Product, number>> } {
    const items: Partial<Record<Product, number>> = {};
    for (const { product, quantity } of this.orders.values()) {
      items[product] = (items[product] ?? 0) + quantity;
    }
    return { open: this.orders.size, items };
  }

  private store(dto: CreateOrderDto): Order {
    const order: Order = {
      id: this.nextId++,
      product: dto.product,
      quantity: dto.quantity,
      ...(dto.note === undefined ? {} : { note: dto.note }),
      createdAt: new Date().toISOString(),
    };
    this.orders.set(order.id, order);
    this.openOrders.set(this.orders.size);
    return order;
  }
}
