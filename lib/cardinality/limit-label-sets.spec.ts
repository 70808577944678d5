import { Logger } from '@nestjs/common';
import { CaptureLogger } from '../../test/helpers/capture-logger.js';
import { Counter, Gauge, Histogram, Registry, Summary } from 'prom-client';
import { forgetReportedDegradations } from '../compat/degraded.js';
import { limitLabelSets } from './limit-label-sets.js';

/** Each series of the metric as `labels=value` (histograms: their _count). */
async function series(metric: {
  get(): Promise<{
    values: {
      labels: Record<string, unknown>;
      value: number;
      metricName?: string;
    }[];
  }>;
}): Promise<string[]> {
  const { values } = await metric.get();
  return values
    .filter(
      (v) => v.metricName === undefined || v.metricName.endsWith('_count'),
    )
    .map(
      (v) =>
        `${Object.entries(v.labels)
          .map(([k, l]) => `${k}:${String(l)}`)
          .join(',')}=${v.value}`,
    );
}

describe('limitLabelSets', () => {
  const logger = new CaptureLogger();
  const warnings = () => logger.messagesAt('warn');
  let registry: Registry;
  beforeAll(() => Logger.overrideLogger(logger));
  afterAll(() => Logger.overrideLogger(new Logger()));
  beforeEach(() => {
    logger.lines.length = 0;
    registry = new Registry();
  });

  const counter = (max: number, extra: object = {}) =>
    limitLabelSets(
      new Counter({
        name: 'jobs_total',
        help: 'h',
        labelNames: ['kind'],
        registers: [registry],
        ...extra,
      }),
      max,
    );

  it('folds label sets beyond max into OVERFLOW, keeps counting known ones, warns once', async () => {
    const jobs = counter(2);
    jobs.inc({ kind: 'a' });
    jobs.inc({ kind: 'b' }, 2);
    jobs.inc({ kind: 'c' });
    jobs.inc({ kind: 'd' });
    jobs.inc({ kind: 'a' });
    jobs.labels('e').inc();
    jobs.labels({ kind: 'b' }).inc();
    expect(await series(jobs)).toEqual([
      'kind:a=2',
      'kind:b=3',
      'kind:OVERFLOW=3',
    ]);
    expect(warnings()).toEqual([
      expect.stringContaining(
        'metric "jobs_total" reached 2 label sets (option "maxSeries")',
      ),
    ]);
  });

  it('counts a frozen label set, reused call after call, as the label set it holds', async () => {
    const jobs = counter(2);
    const a = Object.freeze({ kind: 'a' });
    jobs.inc(a);
    jobs.inc(a);
    jobs.inc({ kind: 'a' });
    jobs.inc(Object.freeze({ kind: 'b' }));
    const c = Object.freeze({ kind: 'c' });
    jobs.inc(c);
    jobs.inc(c);
    jobs.remove('b');
    jobs.inc(c);
    expect(await series(jobs)).toEqual([
      'kind:a=3',
      'kind:OVERFLOW=2',
      'kind:c=1',
    ]);
  });

  it('gives a slot back on remove() and all of them on reset()', async () => {
    const jobs = counter(1);
    jobs.inc({ kind: 'a' });
    jobs.remove({ kind: 'a' });
    jobs.inc({ kind: 'b' });
    expect(await series(jobs)).toEqual(['kind:b=1']);
    jobs.remove('b');
    jobs.inc({ kind: 'c' });
    jobs.reset();
    jobs.inc({ kind: 'd' });
    expect(await series(jobs)).toEqual(['kind:d=1']);
  });

  it('uses no slot for a call prom-client refuses', async () => {
    const jobs = counter(1);
    expect(() => jobs.inc({ other: 'x' } as never)).toThrow();
    jobs.inc({ kind: 'a' });
    expect(await series(jobs)).toEqual(['kind:a=1']);
  });

  it('guards every labelled method of gauges and histograms', async () => {
    const gauge = limitLabelSets(
      new Gauge({
        name: 'depth',
        help: 'h',
        labelNames: ['queue'],
        registers: [registry],
      }),
      1,
    );
    gauge.set({ queue: 'a' }, 3);
    gauge.inc({ queue: 'b' });
    gauge.dec({ queue: 'c' });
    expect(await series(gauge)).toEqual(['queue:a=3', 'queue:OVERFLOW=0']);

    const histogram = limitLabelSets(
      new Histogram({
        name: 'wait_seconds',
        help: 'h',
        labelNames: ['queue'],
        buckets: [1],
        registers: [registry],
      }),
      1,
    );
    histogram.observe({ queue: 'a' }, 0.5);
    histogram.startTimer({ queue: 'b' })();
    // Zeroing a new label set beyond the limit must not wipe the OVERFLOW series.
    histogram.zero({ queue: 'c' });
    histogram.zero({ queue: 'a' });
    expect(await series(histogram)).toEqual(['queue:a=0', 'queue:OVERFLOW=1']);
  });

  it('guards the exemplar form and keeps a summary’s series on reset()', async () => {
    registry = new Registry();
    (registry.setContentType as (type: string) => void).call(
      registry,
      Registry.OPENMETRICS_CONTENT_TYPE,
    );
    const jobs = counter(1, { enableExemplars: true });
    jobs.inc({ labels: { kind: 'a' }, value: 1 });
    jobs.inc({
      labels: { kind: 'b' },
      value: 2,
      exemplarLabels: { id: 'x' },
    } as never);
    expect(await series(jobs)).toEqual(['kind:a=1', 'kind:OVERFLOW=2']);

    const summary = limitLabelSets(
      new Summary({
        name: 'size',
        help: 'h',
        labelNames: ['kind'],
        percentiles: [0.5],
        registers: [registry],
      }),
      1,
    );
    summary.observe({ kind: 'a' }, 1);
    summary.reset();
    summary.observe({ kind: 'b' }, 1);
    const { values } = await summary.get();
    expect(
      values
        .filter((v) => v.metricName === 'size_count')
        .map((v) => [v.labels.kind, v.value]),
    ).toEqual([
      ['a', 0],
      ['OVERFLOW', 1],
    ]);
  });

  it('leaves a metric without labels as it is', () => {
    const plain = new Counter({
      name: 'plain_total',
      help: 'h',
      registers: [registry],
    });
    const inc = plain.inc;
    expect(limitLabelSets(plain, 1).inc).toBe(inc);
  });

  it('without the metric fields it reads, leaves the metric unguarded with one warning', async () => {
    forgetReportedDegradations();
    const raw = new Counter({
      name: 'moved_total',
      help: 'h',
      labelNames: ['kind'],
      registers: [registry],
    });
    // A prom-client that no longer keeps `type` on the instance.
    delete (raw as unknown as { type?: unknown }).type;
    const inc = raw.inc;
    const jobs = limitLabelSets(raw, 1);
    expect(jobs.inc).toBe(inc);
    jobs.inc({ kind: 'a' });
    jobs.inc({ kind: 'b' });
    expect(await series(jobs)).toEqual(['kind:a=1', 'kind:b=1']);
    limitLabelSets(
      new Counter({ name: 'other_total', help: 'h', registers: [registry] }),
      1,
    );
    expect(warnings()).toEqual([
      'nestjs-metrics: prom-client: Metric#type, #labelNames, #enableExemplars is not as this version expects; maxSeries does not bound the label sets of MetricsService and @Timed/@Counted metrics. Everything else is measured as usual.',
    ]);
  });
});
