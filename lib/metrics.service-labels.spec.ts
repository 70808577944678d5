import { Registry } from 'prom-client';
import { resolveOptions } from './metrics.options.js';
import { MetricsService } from './metrics.service.js';

// `tsc -p tsconfig.json` (npm run typecheck) checks this file: each `@ts-expect-error` fails the
// build if the label type stopped catching the misspelt label.
describe('MetricsService label types', () => {
  const metrics = new MetricsService(
    new Registry(),
    resolveOptions({ defaultMetrics: false }),
  );

  it('types each metric by its label names', () => {
    const orders = metrics.counter('orders_total', {
      help: 'Orders.',
      labelNames: ['product'],
    });
    orders.inc({ product: 'pen' });
    expect(() =>
      // @ts-expect-error: "prodct" is not a label of orders_total
      orders.inc({ prodct: 'pen' }),
    ).toThrow('Added label "prodct" is not included in initial labelset');

    const stock = metrics.gauge('stock_items', {
      help: 'Stock.',
      labelNames: ['warehouse', 'sku'] as const,
    });
    stock.set({ warehouse: 'north', sku: 'a1' }, 3);
    // @ts-expect-error: "shelf" is not a label of stock_items
    expect(() => stock.set({ shelf: 'b' }, 1)).toThrow();

    const latency = metrics.histogram('lookup_seconds', {
      help: 'Lookups.',
      labelNames: ['source'],
    });
    latency.observe({ source: 'cache' }, 0.1);
    // @ts-expect-error: "sorce" is not a label of lookup_seconds
    expect(() => latency.observe({ sorce: 'cache' }, 0.1)).toThrow();

    const sizes = metrics.summary('payload_bytes', {
      help: 'Payloads.',
      labelNames: ['direction'],
    });
    sizes.observe({ direction: 'in' }, 10);
    // @ts-expect-error: "dir" is not a label of payload_bytes
    expect(() => sizes.observe({ dir: 'in' }, 10)).toThrow();
  });

  it('keeps call sites without a literal list compiling', () => {
    const names: string[] = ['queue'];
    const jobs = metrics.counter('jobs_total', { labelNames: names });
    jobs.inc({ queue: 'mail' });
    const plain = metrics.counter('plain_total');
    plain.inc();
    expect(metrics.counter('jobs_total', { labelNames: names })).toBe(jobs);
  });
});
