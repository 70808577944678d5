import { jest } from '@jest/globals';
import {
  Counter,
  Gauge,
  Histogram,
  Registry,
  Summary,
  collectDefaultMetrics,
  type OpenMetricsContentType,
} from 'prom-client';
import { EventLoopSlice } from './event-loop-slice.js';
import { OPENMETRICS_TEXT, PROMETHEUS_TEXT } from './exposition-format.js';
import { renderExposition } from './render-exposition.js';

/** prom-client's own rendering of the registry in its content type. */
const promClientMetrics = (registry: Registry): Promise<string> =>
  Registry.prototype.metrics.call(registry);

/** What the OpenMetrics rendering adds to prom-client's: `"` escaped in HELP. */
const helpQuotesEscaped = (text: string): string =>
  text.replace(/^# HELP .*$/gm, (line) => line.replace(/"/g, '\\"'));

const HOSTILE = ['a"b', 'back\\slash', 'new\nline', '"\\\n"', '', 'plain'];
const ODD_VALUES = [
  NaN,
  Infinity,
  -Infinity,
  -0,
  0,
  1e21,
  1.5e-7,
  5e-324,
  Number.MAX_VALUE,
  -123.456,
  0.1 + 0.2,
];

/** Values a collect callback reads, set by the test before each rendering. */
const live = { sync: 0, async: 0 };

/**
 * Every kind of prom-client metric in one registry: labelled and not, partial label sets and
 * label objects in another order, escapes, odd values, histogram bounds, `zero()`, exemplars,
 * sync and async `collect`, subclasses, a summary.
 */
function populate(registry: Registry): void {
  const registers = [registry];
  const plain = new Counter({ name: 'plain_total', help: 'h', registers });
  plain.inc(2.5);
  const orders = new Counter({
    name: 'orders_total',
    help: 'Orders "placed".\nSecond \\ line',
    labelNames: ['product', 'region', 'service'],
    registers,
  });
  for (const [i, product] of HOSTILE.entries())
    orders.inc({ product, region: `r${i % 2}` }, i + 1);
  orders.inc({ region: 'only-region' });
  orders.inc({ service: 'own', product: 'reordered' }, 4);
  orders.inc({ product: 7 as unknown as string, region: 'number' });
  orders.labels('bound', 'r', 'svc').inc();

  const levels = new Gauge({
    name: 'levels',
    help: 'levels',
    labelNames: ['n', 'le'],
    registers,
  });
  for (const [n, value] of ODD_VALUES.entries()) levels.set({ n }, value);
  levels.set({ n: 'with-le', le: 'own' }, 1);
  const idle = new Gauge({ name: 'idle', help: 'no series', registers });
  idle.set(3);
  idle.reset();
  new Gauge({
    name: 'empty_labelled',
    help: 'no series',
    labelNames: ['x'],
    registers,
  });

  const latency = new Histogram({
    name: 'latency_seconds',
    help: 'latency',
    labelNames: ['route', 'service'],
    buckets: [1.5e-7, 0.005, 0.1, 1, 10, 1e21],
    registers,
  });
  for (const [i, route] of HOSTILE.entries())
    for (let n = 0; n <= i; n++) latency.observe({ route }, (i * n) / 3);
  latency.observe({ route: 'inf' }, 2e21);
  latency.observe({ service: 'own', route: 'svc' }, 0.05);
  latency.zero({ route: 'zeroed' });
  const bare = new Histogram({
    name: 'bare_seconds',
    help: 'bare',
    buckets: [Infinity],
    registers,
  });
  bare.observe(3);

  const counted = new Counter<string>({
    name: 'counted_total',
    help: 'with exemplars',
    labelNames: ['route'],
    enableExemplars: true,
    registers: [],
  });
  registry.registerMetric(counted);
  counted.inc({
    labels: { route: '/a' },
    value: 2,
    exemplarLabels: { trace_id: 'abc"\\\n', span_id: '1' },
  });
  counted.inc({ labels: { route: '/b' }, value: 1 });
  const timed = new Histogram<string>({
    name: 'timed_seconds',
    help: 'with exemplars',
    labelNames: ['route'],
    buckets: [0.1, 1],
    enableExemplars: true,
    registers: [],
  });
  registry.registerMetric(timed);
  timed.observe({
    labels: { route: '/a' },
    value: 0.5,
    exemplarLabels: { trace_id: 't1' },
  });
  timed.observe({
    labels: { route: '/a' },
    value: 5,
    exemplarLabels: { trace_id: 't2' },
  });
  timed.observe({ labels: { route: '/b' }, value: 0.01 });

  new Gauge({
    name: 'collected_sync',
    help: 'sync collect',
    labelNames: ['kind'],
    registers,
    collect() {
      this.set({ kind: 'sync' }, live.sync);
    },
  });
  new Counter({
    name: 'collected_async_total',
    help: 'async collect',
    registers,
    async collect() {
      await new Promise((resolve) => setImmediate(resolve));
      this.reset();
      this.inc(live.async);
    },
  });
  new Histogram({
    name: 'collected_seconds',
    help: 'collect',
    buckets: [1],
    registers,
    collect() {
      this.reset();
      this.observe(live.sync);
    },
  });

  class Doubled extends Counter {
    override async get() {
      const snapshot = await super.get();
      return {
        ...snapshot,
        values: snapshot.values.map((v) => ({ ...v, value: v.value * 2 })),
      };
    }
  }
  new Doubled({ name: 'doubled_total', help: 'overrides get', registers }).inc(
    3,
  );
  class Plain extends Gauge {}
  new Plain({ name: 'subclassed', help: 'plain subclass', registers }).set(4);

  const sizes = new Summary({
    name: 'sizes',
    help: 'a summary',
    labelNames: ['route'],
    registers,
  });
  sizes.observe({ route: 'a"b' }, 3);
  sizes.observe({ route: 'a"b' }, 5);
}

const DEFAULT_LABELS: [string, Record<string, string>][] = [
  ['no default labels', {}],
  ['a default label', { zone: 'eu' }],
  [
    'default labels a sample shadows, that need escaping, and one named le',
    { service: 'def"\\\nault', product: 'none', le: 'default' },
  ],
];

describe('prom-client metrics rendered by the scrape', () => {
  beforeEach(() => {
    live.sync = 1;
    live.async = 2;
  });

  it.each(DEFAULT_LABELS)(
    'render byte for byte as prom-client in both formats, with %s',
    async (_case, defaultLabels) => {
      const registry = new Registry();
      populate(registry);
      registry.setDefaultLabels(defaultLabels);

      const text = await renderExposition(registry, PROMETHEUS_TEXT);
      expect(text.text).toBe(await promClientMetrics(registry));
      const openMetrics = await renderExposition(registry, OPENMETRICS_TEXT);
      // prom-client renames counters in place when it renders OpenMetrics: that comes last.
      (registry as unknown as Registry<OpenMetricsContentType>).setContentType(
        Registry.OPENMETRICS_CONTENT_TYPE,
      );
      expect(openMetrics.text).toBe(
        helpQuotesEscaped(await promClientMetrics(registry)),
      );
    },
  );

  it('renders what the comparison is about', async () => {
    const registry = new Registry();
    populate(registry);
    registry.setDefaultLabels({ service: 'api', le: 'x' });
    const { text } = await renderExposition(registry, OPENMETRICS_TEXT);

    for (const line of [
      '# HELP orders Orders \\"placed\\".\\nSecond \\\\ line',
      'orders_total{product="a\\"b",region="r0",service="api",le="x"} 1',
      'orders_total{product="\\"\\\\\\n\\"",region="r1",service="api",le="x"} 4',
      'orders_total{service="own",product="reordered",le="x"} 4',
      'orders_total{region="only-region",service="api",le="x"} 1',
      'levels{n="0",service="api",le="x"} Nan',
      'levels{n="1",service="api",le="x"} +Inf',
      'levels{n="2",service="api",le="x"} -Inf',
      'levels{n="3",service="api",le="x"} 0',
      'levels{n="5",service="api",le="x"} 1e+21',
      'levels{n="with-le",le="own",service="api"} 1',
      'latency_seconds_bucket{le="1.5e-7",service="api",route="a\\"b"} 1',
      'latency_seconds_bucket{le="1e+21",service="api",route="inf"} 0',
      'latency_seconds_bucket{le="+Inf",service="api",route="inf"} 1',
      'latency_seconds_sum{service="api",le="x",route="inf"} 2e+21',
      'latency_seconds_bucket{le="0.1",service="own",route="svc"} 1',
      'latency_seconds_sum{le="x",service="own",route="svc"} 0.05',
      'bare_seconds_bucket{le="Infinity",service="api"} 1',
      'counted_total{route="/a",service="api",le="x"} 2 # {trace_id="abc\\"\\\\\\n",span_id="1"} 2 ',
      'timed_seconds_bucket{le="1",service="api",route="/a"} 1 # {trace_id="t1"} 0.5 ',
      'timed_seconds_bucket{le="+Inf",service="api",route="/a"} 2 # {trace_id="t2"} 5 ',
      'doubled_total{service="api",le="x"} 6',
      'sizes_count{route="a\\"b",service="api",le="x"} 2',
    ])
      expect(text).toContain(`\n${line}`);
    expect(text).toContain('\nidle{service="api",le="x"} 0\n');
    expect(text).not.toContain('empty_labelled{');
  });

  it('runs collect callbacks, sync and async, before reading values', async () => {
    const registry = new Registry();
    populate(registry);
    for (const value of [5, 8]) {
      live.sync = value;
      live.async = value * 10;
      const { text } = await renderExposition(registry, PROMETHEUS_TEXT);
      expect(text).toContain(`\ncollected_sync{kind="sync"} ${value}\n`);
      expect(text).toContain(`\ncollected_async_total ${value * 10}\n`);
      expect(text).toContain(`\ncollected_seconds_sum ${value}\n`);
      expect(text).toBe(await promClientMetrics(registry));
    }
  });

  it('rejects the scrape as prom-client does when a collect throws, after every collect ran', async () => {
    const ran: string[] = [];
    const registry = new Registry();
    new Gauge({
      name: 'failing',
      help: 'f',
      registers: [registry],
      collect() {
        ran.push('failing');
        throw new Error('collect failed');
      },
    });
    new Counter({
      name: 'after_total',
      help: 'a',
      registers: [registry],
      collect() {
        ran.push('after');
      },
    });

    await expect(renderExposition(registry, PROMETHEUS_TEXT)).rejects.toThrow(
      'collect failed',
    );
    const ours = [...ran];
    ran.length = 0;
    await expect(promClientMetrics(registry)).rejects.toThrow('collect failed');
    expect(ours).toEqual(['failing', 'after']);
    expect(ran).toEqual(ours);
  });

  it('writes counters, gauges and histograms without prom-client get(), and not a subclass that overrides it', async () => {
    const registry = new Registry();
    populate(registry);
    const counterGet = jest.spyOn(Counter.prototype, 'get');
    const gaugeGet = jest.spyOn(Gauge.prototype, 'get');
    const histogramGet = jest.spyOn(
      Histogram.prototype as unknown as {
        getForPromString(): Promise<unknown>;
      },
      'getForPromString',
    );
    try {
      await renderExposition(registry, PROMETHEUS_TEXT);
      // Only `doubled_total` (its own get() calls prom-client's) goes through prom-client.
      expect(counterGet).toHaveBeenCalledTimes(1);
      expect(gaugeGet).not.toHaveBeenCalled();
      expect(histogramGet).not.toHaveBeenCalled();
    } finally {
      jest.restoreAllMocks();
    }
  });

  it('follows label sets that are reset, removed, replaced or added between scrapes', async () => {
    const registry = new Registry();
    registry.setDefaultLabels({ zone: 'eu' });
    const counter = new Counter({
      name: 'c_total',
      help: 'c',
      labelNames: ['a', 'b'],
      registers: [registry],
    });
    const gauge = new Gauge({
      name: 'g',
      help: 'g',
      labelNames: ['a', 'b'],
      registers: [registry],
    });
    const histogram = new Histogram({
      name: 'h',
      help: 'h',
      labelNames: ['a'],
      buckets: [1],
      registers: [registry],
    });
    const steps: (() => void)[] = [
      () => {
        counter.inc({ a: 'x', b: 'y' });
        gauge.set({ a: 'x', b: 'y' }, 1);
        histogram.observe({ a: 'x' }, 0.5);
      },
      // A new label object of the same set, keys in another order: prom-client keeps its first.
      () => {
        counter.inc({ b: 'y', a: 'x' });
        gauge.set({ b: 'y', a: 'x' }, 2);
      },
      () => {
        counter.reset();
        gauge.reset();
        histogram.reset();
        counter.inc({ b: 'y', a: 'x' }, 3);
        gauge.inc({ a: 'x' }, 4);
        histogram.observe({ a: 'z' }, 2);
      },
      () => {
        counter.remove('x', 'y');
        gauge.remove({ a: 'x' });
        histogram.remove('z');
        counter.inc({ a: 'q' });
        registry.setDefaultLabels({ zone: 'us', a: 'default' });
      },
    ];
    for (const step of steps) {
      step();
      const { text } = await renderExposition(registry, PROMETHEUS_TEXT);
      expect(text).toBe(await promClientMetrics(registry));
    }
  });

  it('renders a label object the caller changed after it was first written, as prom-client', async () => {
    const registry = new Registry();
    const counter = new Counter({
      name: 'c_total',
      help: 'c',
      labelNames: ['route', 'extra'],
      registers: [registry],
    });
    const gauge = new Gauge({
      name: 'g',
      help: 'g',
      labelNames: ['q', 'extra'],
      registers: [registry],
    });
    const histogram = new Histogram({
      name: 'h',
      help: 'h',
      labelNames: ['q'],
      buckets: [1],
      registers: [registry],
    });
    const reused: Record<string, string> = { route: '/a' };
    const gaugeLabels: Record<string, string> = { q: 'x' };
    const histogramLabels: Record<string, string> = { q: 'x' };
    counter.inc(reused);
    gauge.set(gaugeLabels, 1);
    histogram.observe(histogramLabels, 0.5);
    const steps: (() => void)[] = [
      () => {
        reused.route = '/b';
        counter.inc(reused);
        gaugeLabels.q = 'y';
        // prom-client caches a histogram's series labels by object: it keeps showing `x`.
        histogramLabels.q = 'y';
      },
      () => {
        reused.extra = 'added';
        delete gaugeLabels.q;
        gaugeLabels.extra = 'only';
      },
    ];
    const seen: string[] = [];
    for (const step of [() => undefined, ...steps]) {
      step();
      const { text } = await renderExposition(registry, PROMETHEUS_TEXT);
      expect(text).toBe(await promClientMetrics(registry));
      seen.push(text);
    }
    expect(seen[1]).toContain('c_total{route="/b"} 1\nc_total{route="/b"} 1');
    expect(seen[1]).toContain('g{q="y"} 1');
    expect(seen[2]).toContain('g{extra="only"} 1');
  });

  it("takes a family's series right after its own collect, as prom-client's get() does", async () => {
    const registry = new Registry();
    const first = new Gauge({
      name: 'first',
      help: 'first',
      labelNames: ['q'],
      registers: [registry],
    });
    first.set({ q: 'old' }, 1);
    // A later metric's collect changes the first one: prom-client has read the first already.
    new Gauge({
      name: 'second',
      help: 'second',
      registers: [registry],
      collect() {
        first.reset();
        first.set({ q: 'new' }, 2);
        this.set(1);
      },
    });
    const { text } = await renderExposition(registry, PROMETHEUS_TEXT);
    first.reset();
    first.set({ q: 'old' }, 1);
    expect(text).toBe(await promClientMetrics(registry));
    expect(text).toContain('first{q="old"} 1');
  });

  it("renders prom-client's default process metrics as prom-client", async () => {
    const registry = new Registry();
    collectDefaultMetrics({ register: registry });
    registry.setDefaultLabels({ app: 'x' });
    // Values that move between two readings (CPU, memory, lag) are left out of the comparison.
    const shape = (text: string): string =>
      text.replace(/^([^#\s][^ ]*) \S+$/gm, '$1 _');

    const { text } = await renderExposition(registry, PROMETHEUS_TEXT);
    expect(shape(text)).toBe(shape(await promClientMetrics(registry)));
    expect(text).toContain('\nnodejs_version_info{version="');
  });

  it('yields between runs of whole series while values change', async () => {
    const registry = new Registry();
    const bounds = [0.1, 1, 10];
    const histogram = new Histogram({
      name: 'work_seconds',
      help: 'w',
      labelNames: ['job'],
      buckets: bounds,
      registers: [registry],
    });
    const counter = new Counter({
      name: 'jobs_total',
      help: 'j',
      labelNames: ['job'],
      registers: [registry],
    });
    for (let j = 0; j < 5000; j++) {
      histogram.observe({ job: `j${j}` }, 0.5);
      counter.inc({ job: `j${j}` });
    }
    let turns = 0;
    let recording = true;
    const record = (): void => {
      if (!recording) return;
      turns += 1;
      for (let j = 0; j < 5000; j += 7) {
        histogram.observe({ job: `j${j}` }, j % 20);
        counter.inc({ job: `j${j}` });
      }
      histogram.observe({ job: `new${turns}` }, 0.05);
      setImmediate(record);
    };
    setImmediate(record);
    const { text } = await renderExposition(
      registry,
      OPENMETRICS_TEXT,
      new EventLoopSlice(0),
    );
    recording = false;

    expect(turns).toBeGreaterThan(3);
    const series = new Map<string, string[]>();
    for (const line of text.split('\n')) {
      const match =
        /^work_seconds_(\w+)\{(?:le="([^"]+)",)?job="([^"]+)"\} (\S+)$/.exec(
          line,
        );
      if (match === null) continue;
      const [, kind, le, job, value] = match;
      series.set(job, [
        ...(series.get(job) ?? []),
        `${kind}${le === undefined ? '' : `:${le}`}=${value}`,
      ]);
    }
    expect(series.size).toBeGreaterThanOrEqual(5000);
    for (const [job, lines] of series) {
      const kinds = lines.map((line) => line.split('=')[0]);
      expect([job, kinds]).toEqual([
        job,
        ['bucket:0.1', 'bucket:1', 'bucket:10', 'bucket:+Inf', 'sum', 'count'],
      ]);
      const values = lines.map((line) => Number(line.split('=')[1]));
      // Whole: cumulative buckets, +Inf equals _count.
      expect(values.slice(0, 4)).toEqual(
        [...values.slice(0, 4)].sort((a, b) => a - b),
      );
      expect(values[3]).toBe(values[5]);
    }
  });
});
