import { spawnSync } from 'node:child_process';
import {
  Counter,
  Gauge,
  Histogram,
  Registry,
  Summary,
  type OpenMetricsContentType,
} from 'prom-client';
import {
  RequestMetrics,
  type RouteSeries,
} from '../lib/recorder/request-metrics.js';
import { EventLoopSlice } from '../lib/scrape/event-loop-slice.js';
import {
  OPENMETRICS_TEXT,
  PROMETHEUS_TEXT,
} from '../lib/scrape/exposition-format.js';
import { ExpositionRegistry } from '../lib/scrape/exposition-registry.js';
import { renderExposition } from '../lib/scrape/render-exposition.js';
import { parseSamples, sum, type Sample } from './helpers/metrics-text.js';
import { findSystemBinary } from './helpers/system-binary.js';

const BOUNDS = [0.005, 0.01, 0.1, 1, 2.5];
const STATUSES = ['200', '201', '404', '500'];
/** Route values (RPC patterns, job names come from user code) that need every escape. */
const HOSTILE_ROUTES = ['/a"quoted"', '/back\\slash', '/new\nline', '"\\\n"'];
const ROUTES = 1000;
const MAX_SERIES = ROUTES * STATUSES.length + 10;

/** prom-client's own rendering of the registry, whatever class it is. */
const promClientMetrics = (registry: Registry): Promise<string> =>
  Registry.prototype.metrics.call(registry);

/** The one value that moves between two renderings: the module's uptime. */
const withoutUptime = (text: string): string =>
  text.replace(/^(app_uptime_seconds(?:\{[^}]*\})?) \S+$/m, '$1 0');

/** What the OpenMetrics rendering adds to prom-client's: `"` escaped in HELP. */
const helpQuotesEscaped = (text: string): string =>
  text.replace(/^# HELP .*$/gm, (line) => line.replace(/"/g, '\\"'));

/**
 * A registry with prom-client metrics before and after the request families; the families hold
 * 4,000 ordinary series, routes that need escaping, +Inf and NaN durations, errors, in-flight
 * gauges and series folded into OVERFLOW.
 */
function populate(registry: Registry, exemplars = false): RequestMetrics {
  const orders = new Counter({
    name: 'orders_total',
    help: 'Orders "placed".\nSecond \\ line',
    labelNames: ['product'],
    registers: [registry],
  });
  orders.inc({ product: 'a"b\\c\nd' }, 3);
  const metrics = new RequestMetrics('app_', BOUNDS, MAX_SERIES);
  metrics.register(registry);
  for (let r = 0; r < ROUTES; r++) {
    const route = metrics.route('http', 'GET', `/resource${r}/:id`);
    for (const [s, status] of STATUSES.entries()) {
      for (let n = 0; n <= (r + s) % 3; n++) {
        metrics.record(route, {
          status,
          durationSeconds: ((r * 7 + s * 13 + n) % 40) / 10,
          requestBytes: n * 10,
          responseBytes: 100 + r,
          errorType:
            status === '404'
              ? 'not_found'
              : status === '500'
                ? 'internal'
                : undefined,
        });
      }
    }
  }
  for (const path of HOSTILE_ROUTES) {
    const route = metrics.route('rpc', 'SEND', path);
    metrics.record(route, {
      status: 'OK',
      durationSeconds: 0.2,
      requestBytes: 5,
      responseBytes: 6,
      errorType: undefined,
    });
    metrics.record(route, {
      status: 'ERROR',
      durationSeconds: 0.01,
      requestBytes: 5,
      responseBytes: 0,
      errorType: 'internal',
    });
  }
  const odd = metrics.route('http', 'POST', '/odd');
  for (const durationSeconds of [Infinity, 0.001]) {
    metrics.record(odd, {
      status: '200',
      durationSeconds,
      requestBytes: 1,
      responseBytes: 1,
      errorType: undefined,
    });
  }
  metrics.record(odd, {
    status: '202',
    durationSeconds: NaN,
    requestBytes: 1,
    responseBytes: 1,
    errorType: undefined,
  });
  // Past maxSeries: these fold into the OVERFLOW series of their transport.
  for (let r = 0; r < 5; r++) {
    const route = metrics.route('http', 'PUT', `/late${r}`);
    for (const status of ['200', '204']) {
      metrics.record(route, {
        status,
        durationSeconds: 0.3,
        requestBytes: 0,
        responseBytes: 0,
        errorType: status === '204' ? 'internal' : undefined,
      });
    }
  }
  if (exemplars) keepExemplars(metrics);
  metrics.declareTransport('ws');
  metrics.started('http');
  const jobs = new Histogram({
    name: 'job_seconds',
    help: 'Job time.',
    labelNames: ['job'],
    buckets: [0.1, 1],
    registers: [registry],
  });
  jobs.observe({ job: 'mail' }, 0.5);
  new Gauge({
    name: 'queue_depth',
    help: 'Jobs "waiting".',
    registers: [registry],
  }).set(7);
  new Summary({
    name: 'payload_bytes',
    help: 'Payload size.',
    percentiles: [0.5, 0.9],
    registers: [registry],
  }).observe(512);
  return metrics;
}

/** Exemplars on every tenth status series (hostile routes, +Inf, NaN and OVERFLOW among them). */
function keepExemplars(metrics: RequestMetrics): void {
  const all = metrics.allStatuses();
  for (let i = 0; i < all.length; i++) {
    const series = all[i];
    if (
      i % 10 !== 0 &&
      series.labels.route !== '/odd' &&
      !series.labels.route.toString().startsWith('OVERFLOW') &&
      series.labels.transport !== 'rpc'
    )
      continue;
    const traceId = i.toString(16).padStart(32, '0');
    const spanId = (i + 7).toString(16).padStart(16, '0');
    metrics.keepExemplar(
      series,
      {
        labelSet: { trace_id: traceId, span_id: spanId },
        labelText: `trace_id="${traceId}",span_id="${spanId}"`,
      },
      ((i % 30) / 10) as number,
    );
  }
}

/** Two renderings stamp their exemplars at different times. */
const exemplarTimes = (text: string): string =>
  text.replace(/( # \{[^}]*\} \S+) \d+(?:\.\d+)?$/gm, '$1 T');

const DEFAULT_LABELS: [string, Record<string, string>][] = [
  ['no default labels', {}],
  ['a default label', { service: 'api' }],
  [
    'default labels that need escaping or share a name with a family label',
    { service: 'a"b\\c\nd', route: 'shadowed', le: 'odd', zone: 'eu' },
  ],
  // prom-client puts an integer-like name first: the families render through prom-client.
  ['a default label named like an index', { '1': 'one', service: 'api' }],
];

describe('Scrape rendering compared with prom-client', () => {
  it.each(DEFAULT_LABELS)(
    'renders the text format byte for byte as prom-client, with %s',
    async (_case, defaultLabels) => {
      const registry = new Registry();
      populate(registry);
      registry.setDefaultLabels(defaultLabels);

      const rendered = await renderExposition(registry, PROMETHEUS_TEXT);

      expect(rendered.contentType).toBe(PROMETHEUS_TEXT.contentType);
      expect(withoutUptime(rendered.text)).toBe(
        withoutUptime(await promClientMetrics(registry)),
      );
    },
  );

  it.each(DEFAULT_LABELS)(
    'renders OpenMetrics byte for byte as prom-client (HELP quotes escaped), with %s',
    async (_case, defaultLabels) => {
      const registry = new Registry();
      populate(registry);
      registry.setDefaultLabels(defaultLabels);
      // prom-client renames counters in place when it renders OpenMetrics: a twin registry does.
      const reference = new Registry();
      populate(reference);
      reference.setDefaultLabels(defaultLabels);
      (reference as unknown as Registry<OpenMetricsContentType>).setContentType(
        Registry.OPENMETRICS_CONTENT_TYPE,
      );

      const rendered = await renderExposition(registry, OPENMETRICS_TEXT);

      expect(rendered.contentType).toBe(OPENMETRICS_TEXT.contentType);
      expect(withoutUptime(rendered.text)).toBe(
        withoutUptime(helpQuotesEscaped(await promClientMetrics(reference))),
      );
      // The registry itself was only read: its text rendering still names counters with _total.
      expect(withoutUptime(await promClientMetrics(registry))).toBe(
        withoutUptime((await renderExposition(registry, PROMETHEUS_TEXT)).text),
      );
      expect(await promClientMetrics(registry)).toContain(
        '# TYPE app_requests_total counter',
      );
    },
  );

  it.each(DEFAULT_LABELS)(
    'renders exemplars in OpenMetrics byte for byte as prom-client, and none in the text format, with %s',
    async (_case, defaultLabels) => {
      const registry = new Registry();
      populate(registry, true);
      registry.setDefaultLabels(defaultLabels);
      const reference = new Registry();
      populate(reference, true);
      reference.setDefaultLabels(defaultLabels);
      (reference as unknown as Registry<OpenMetricsContentType>).setContentType(
        Registry.OPENMETRICS_CONTENT_TYPE,
      );
      const plain = new Registry();
      populate(plain);
      plain.setDefaultLabels(defaultLabels);

      const rendered = await renderExposition(registry, OPENMETRICS_TEXT);
      expect(exemplarTimes(withoutUptime(rendered.text))).toBe(
        exemplarTimes(
          withoutUptime(helpQuotesEscaped(await promClientMetrics(reference))),
        ),
      );
      // 411 series (every tenth of 4,000, the rpc, /odd and OVERFLOW ones) carry one on requests_total and one on a bucket.
      expect(rendered.text.match(/ # \{trace_id="/g)).toHaveLength(2 * 411);
      const text = (await renderExposition(registry, PROMETHEUS_TEXT)).text;
      expect(withoutUptime(text)).toBe(
        withoutUptime((await renderExposition(plain, PROMETHEUS_TEXT)).text),
      );
      expect(withoutUptime(text)).toBe(
        withoutUptime(await promClientMetrics(registry)),
      );
    },
  );

  it('renders what the comparison is about: escapes, +Inf, NaN, OVERFLOW, the order of families', async () => {
    const registry = new Registry();
    populate(registry);
    registry.setDefaultLabels({ service: 'api' });
    const { text } = await renderExposition(registry, OPENMETRICS_TEXT);
    const families = [...text.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]);

    expect(families).toEqual([
      'orders',
      'app_requests',
      'app_request_bytes',
      'app_response_bytes',
      'app_request_duration_seconds',
      'app_concurrent_requests',
      'app_errors',
      'app_uptime_seconds',
      'job_seconds',
      'queue_depth',
      'payload_bytes',
    ]);
    expect(text).toContain(
      'app_requests_total{transport="rpc",method="SEND",route="/a\\"quoted\\"",status="OK",service="api"} 1\n',
    );
    expect(text).toContain(
      'app_errors_total{transport="rpc",method="SEND",route="\\"\\\\\\n\\"",error_type="internal",service="api"} 1\n',
    );
    expect(text).toContain(
      'app_request_duration_seconds_bucket{le="+Inf",service="api",transport="http",method="POST",route="/odd",status="200"} 2\n',
    );
    expect(text).toContain(
      'app_request_duration_seconds_sum{service="api",transport="http",method="POST",route="/odd",status="200"} +Inf\n',
    );
    expect(text).toContain(
      'app_request_duration_seconds_sum{service="api",transport="http",method="POST",route="/odd",status="202"} Nan\n',
    );
    expect(text).toContain(
      'app_requests_total{transport="http",method="OVERFLOW",route="OVERFLOW",status="OVERFLOW",service="api"} 10\n',
    );
    expect(text.endsWith('\n# EOF\n')).toBe(true);
    const samples = parseSamples(text.replace('# EOF\n', ''));
    expect(samples.filter((s) => s.name === 'app_requests_total')).toHaveLength(
      MAX_SERIES + 1,
    );
  });

  it('follows default labels changed between scrapes', async () => {
    const registry = new Registry();
    populate(registry);
    for (const labels of [{ service: 'a' }, { service: 'b', zone: 'z' }, {}]) {
      registry.setDefaultLabels(labels);
      const { text } = await renderExposition(registry, PROMETHEUS_TEXT);
      expect(withoutUptime(text)).toBe(
        withoutUptime(await promClientMetrics(registry)),
      );
    }
    expect(
      (await renderExposition(registry, PROMETHEUS_TEXT)).text,
    ).not.toContain('service=');
  });

  it("the module's registry class renders metrics() as prom-client does", async () => {
    const registry = new ExpositionRegistry();
    populate(registry);
    registry.setDefaultLabels({ service: 'api' });

    expect(withoutUptime(await registry.metrics())).toBe(
      withoutUptime(await promClientMetrics(registry)),
    );
  });

  const promtool = findSystemBinary(
    'promtool',
    'prometheus',
    'the promtool check of the fast rendering',
  );
  (promtool ? it : it.skip)(
    'passes promtool check metrics with label values that need escaping',
    async () => {
      const registry = new Registry();
      populate(registry);
      registry.setDefaultLabels({ service: 'a"b\\c\nd' });
      const { text } = await renderExposition(registry, PROMETHEUS_TEXT);

      const result = spawnSync(promtool!, ['check', 'metrics'], {
        input: text,
        encoding: 'utf8',
      });
      // 0: clean; 3: lint problems only (listed on stderr, none expected).
      expect({ status: result.status, problems: result.stderr }).toEqual({
        status: 0,
        problems: '',
      });
    },
  );
});

/** Every sample of one family that carries `labels`, keyed by its remaining labels. */
function seriesOf(samples: Sample[], name: string): Map<string, Sample[]> {
  const series = new Map<string, Sample[]>();
  for (const sample of samples) {
    if (!sample.name.startsWith(name)) continue;
    const { le: _le, ...rest } = sample.labels;
    const key = JSON.stringify(rest);
    series.set(key, [...(series.get(key) ?? []), sample]);
  }
  return series;
}

describe('Scrape while requests are recorded', () => {
  it('yields to the event loop and never writes half a series, whatever is recorded meanwhile', async () => {
    const registry = new Registry();
    const metrics = new RequestMetrics('app_', BOUNDS, 100_000);
    metrics.register(registry);
    const existing: RouteSeries[] = [];
    for (let r = 0; r < 2000; r++) {
      const route = metrics.route('http', 'GET', `/resource${r}`);
      metrics.record(route, {
        status: '200',
        durationSeconds: 0.05,
        requestBytes: 0,
        responseBytes: 10,
        errorType: undefined,
      });
      existing.push(route);
    }

    // Between every slice of the scrape: new series, and more requests on existing ones.
    let turns = 0;
    let recording = true;
    const record = (): void => {
      if (!recording) return;
      turns += 1;
      metrics.record(metrics.route('http', 'GET', `/new${turns}`), {
        status: '201',
        durationSeconds: 0.5,
        requestBytes: 1,
        responseBytes: 1,
        errorType: 'internal',
      });
      for (const route of existing) {
        metrics.record(route, {
          status: '200',
          durationSeconds: 3,
          requestBytes: 0,
          responseBytes: 10,
          errorType: undefined,
        });
      }
      setImmediate(record);
    };
    setImmediate(record);
    const { text } = await renderExposition(
      registry,
      PROMETHEUS_TEXT,
      new EventLoopSlice(0),
    );
    recording = false;
    const turnsDuringScrape = turns;

    expect(turnsDuringScrape).toBeGreaterThan(3);
    const samples = parseSamples(text);
    const histogram = seriesOf(samples, 'app_request_duration_seconds');
    for (const [key, lines] of histogram) {
      // Whole: every bucket, then _sum and _count; cumulative; +Inf equals _count.
      expect([key, lines.map((s) => s.labels.le ?? s.name)]).toEqual([
        key,
        [
          ...BOUNDS.map(String),
          '+Inf',
          'app_request_duration_seconds_sum',
          'app_request_duration_seconds_count',
        ],
      ]);
      const buckets = lines.slice(0, BOUNDS.length + 1).map((s) => s.value);
      expect(buckets).toEqual([...buckets].sort((a, b) => a - b));
      expect(lines[BOUNDS.length].value).toBe(lines[BOUNDS.length + 2].value);
    }
    const requests = samples.filter((s) => s.name === 'app_requests_total');
    const newSeries = requests.filter((s) => s.labels.route.startsWith('/new'));
    // Series created during the scrape: some rendered (created before their family), none twice.
    expect(new Set(requests.map((s) => JSON.stringify(s.labels))).size).toBe(
      requests.length,
    );
    expect(newSeries.length).toBeLessThanOrEqual(turnsDuringScrape);
    expect(histogram.size).toBeGreaterThanOrEqual(2000);
    for (const sample of requests) {
      if (sample.labels.route.startsWith('/new')) {
        expect(sample.value).toBe(1);
      } else {
        expect(sample.value).toBeGreaterThanOrEqual(1);
        expect(sample.value).toBeLessThanOrEqual(1 + turnsDuringScrape);
      }
    }

    // Once the recording stops, a scrape holds every request exactly.
    const after = parseSamples(
      (await renderExposition(registry, PROMETHEUS_TEXT)).text,
    );
    expect(sum(after, 'app_requests_total')).toBe(
      2000 * (1 + turnsDuringScrape) + turnsDuringScrape,
    );
    expect(sum(after, 'app_request_duration_seconds_count')).toBe(
      2000 * (1 + turnsDuringScrape) + turnsDuringScrape,
    );
    expect(sum(after, 'app_errors_total')).toBe(turnsDuringScrape);
    expect(
      withoutUptime((await renderExposition(registry, PROMETHEUS_TEXT)).text),
    ).toBe(withoutUptime(await promClientMetrics(registry)));
  });
});
