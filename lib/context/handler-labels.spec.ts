import { Registry } from 'prom-client';
import { resolveOptions } from '../metrics.options.js';
import { MetricsService } from '../metrics.service.js';
import {
  currentHandler,
  handlerContextSwitch,
  runInHandlerContext,
} from './handler-context.js';

describe('handlerLabels', () => {
  const options = resolveOptions({ defaultMetrics: false });
  const registry = new Registry();
  const metrics = new MetricsService(registry, options);
  const graphql = { transport: 'graphql', route: 'GetUser' };

  async function values(name: string) {
    const metric = await registry.getSingleMetric(name)!.get();
    return metric.values.map((v) => [v.labels, v.value]);
  }

  it('turns the switch of its module on when the first such metric is created', () => {
    expect(handlerContextSwitch(options).on).toBe(false);
    metrics.counter('calls_total', { handlerLabels: true });
    expect(handlerContextSwitch(options).on).toBe(true);
    expect(
      handlerContextSwitch(resolveOptions({ defaultMetrics: false })).on,
    ).toBe(false);
  });

  it('labels observations made in runInHandlerContext, and none outside', async () => {
    const calls = metrics.counter('calls_total', { handlerLabels: true });
    runInHandlerContext(graphql, () => calls.inc());
    await runInHandlerContext(graphql, async () => {
      await new Promise((resolve) => setTimeout(resolve, 1));
      calls.inc(2);
    });
    calls.inc();
    expect(currentHandler()).toBeUndefined();
    expect(await values('calls_total')).toEqual([
      [graphql, 3],
      [{ transport: 'none', route: 'none' }, 1],
    ]);
  });

  it('labels() binds the handler of the moment, for object and positional values', async () => {
    const sizes = metrics.histogram('sizes', {
      labelNames: ['kind'],
      buckets: [1],
      handlerLabels: true,
    });
    const child = runInHandlerContext(graphql, () =>
      sizes.labels({ kind: 'a' }),
    );
    child.observe(0.5);
    sizes.labels('b').observe(2);
    const counts = (await values('sizes')).filter(
      ([labels]) => (labels as { le?: unknown }).le === '+Inf',
    );
    expect(counts).toEqual([
      [{ kind: 'a', le: '+Inf', ...graphql }, 1],
      [{ kind: 'b', le: '+Inf', transport: 'none', route: 'none' }, 1],
    ]);
  });

  it('is ignored by summaries', async () => {
    const latency = metrics.summary('latency_seconds', {
      handlerLabels: true,
    } as never);
    runInHandlerContext(graphql, () => latency.observe(1));
    expect((await values('latency_seconds')).map(([labels]) => labels)).toEqual(
      [
        { quantile: 0.01 },
        { quantile: 0.05 },
        { quantile: 0.5 },
        { quantile: 0.9 },
        { quantile: 0.95 },
        { quantile: 0.99 },
        { quantile: 0.999 },
        {},
        {},
      ],
    );
  });

  it('refuses transport or route among its own label names, and a second ask without it', () => {
    expect(() =>
      metrics.counter('routed_total', {
        labelNames: ['route'],
        handlerLabels: true,
      }),
    ).toThrow(
      'nestjs-metrics: metric "routed_total" asks for handlerLabels, which adds the labels transport and route itself; leave [route] out of its labelNames.',
    );
    expect(() => metrics.counter('calls_total')).toThrow(
      'nestjs-metrics: metric "calls_total" already exists with label names [route, transport], not [].',
    );
    metrics.counter('both_total', { labelNames: ['transport', 'route'] });
    expect(() =>
      metrics.counter('both_total', { handlerLabels: true }),
    ).toThrow(
      'nestjs-metrics: metric "both_total" already exists without handlerLabels.',
    );
  });
});
