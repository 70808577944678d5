import {
  Counter,
  Histogram,
  Registry,
  type OpenMetricsContentType,
} from 'prom-client';
import type { TraceLabels } from '../lib/exemplars/trace-exemplars.js';
import { REQUEST_FAMILIES } from '../lib/recorder/request-families.js';
import { RequestMetrics } from '../lib/recorder/request-metrics.js';
import {
  OPENMETRICS_TEXT,
  PROMETHEUS_TEXT,
} from '../lib/scrape/exposition-format.js';
import { renderExposition } from '../lib/scrape/render-exposition.js';

const BOUNDS = [0.005, 0.01, 0.1, 1, 2.5];
const LABELS = ['transport', 'method', 'route', 'status'];

function trace(n: number): TraceLabels {
  const traceId = n.toString(16).padStart(32, '0');
  const spanId = (n + 1000).toString(16).padStart(16, '0');
  return {
    labelSet: { trace_id: traceId, span_id: spanId },
    labelText: `trace_id="${traceId}",span_id="${spanId}"`,
  };
}

/** One request: its route, status, duration and the span it ran in, if any. */
interface Observation {
  route: string;
  status: string;
  seconds: number;
  trace?: number;
}

/** Every bucket hit (+Inf too), several exemplars on one slot (the last wins), series without any. */
const OBSERVATIONS: Observation[] = [
  { route: '/a', status: '200', seconds: 0.003, trace: 1 },
  { route: '/a', status: '200', seconds: 0.004, trace: 2 },
  { route: '/a', status: '200', seconds: 0.05, trace: 3 },
  { route: '/a', status: '200', seconds: 0.5 },
  { route: '/a', status: '200', seconds: 7, trace: 4 },
  { route: '/a', status: '500', seconds: 0.1, trace: 5 },
  { route: '/b/:id', status: '200', seconds: 0.01 },
  { route: '/b/:id', status: '404', seconds: 2.5, trace: 6 },
];

/** The library's families and prom-client's own histogram and counter with the same observations. */
function record(exemplars = true): { ours: Registry; theirs: Registry } {
  const ours = new Registry();
  const metrics = new RequestMetrics('app_', BOUNDS);
  metrics.register(ours);
  // prom-client takes exemplars only in a registry made for OpenMetrics.
  const theirs = new Registry();
  (theirs as unknown as Registry<OpenMetricsContentType>).setContentType(
    Registry.OPENMETRICS_CONTENT_TYPE,
  );
  const help = (name: string) =>
    REQUEST_FAMILIES.find((family) => family.name === name)!.help;
  const counter = new Counter({
    name: 'app_requests_total',
    help: help('requests_total'),
    labelNames: LABELS,
    enableExemplars: true,
    registers: [theirs],
  });
  const histogram = new Histogram({
    name: 'app_request_duration_seconds',
    help: help('request_duration_seconds'),
    labelNames: LABELS,
    buckets: BOUNDS,
    enableExemplars: true,
    registers: [theirs],
  });
  for (const { route, status, seconds, trace: n } of OBSERVATIONS) {
    const series = metrics.record(metrics.route('http', 'GET', route), {
      status,
      durationSeconds: seconds,
      requestBytes: 0,
      responseBytes: 0,
      errorType: undefined,
    });
    const labels = { transport: 'http', method: 'GET', route, status };
    const exemplarLabels = n === undefined ? {} : trace(n).labelSet;
    if (exemplars && n !== undefined)
      metrics.keepExemplar(series, trace(n), seconds);
    // prom-client's counter writes `# {}` for empty exemplar labels: a request without a span
    // leaves them out.
    counter.inc(
      n === undefined
        ? { labels, value: 1 }
        : { labels, value: 1, exemplarLabels },
    );
    histogram.observe({ labels, value: seconds, exemplarLabels });
  }
  return { ours, theirs };
}

/** The sample lines of one family in a rendering. */
function family(text: string, name: string): string[] {
  const lines = text.split('\n');
  const start = lines.indexOf(
    `# TYPE ${name} ${name.endsWith('seconds') ? 'histogram' : 'counter'}`,
  );
  const end = lines.findIndex((line, i) => i > start && line.startsWith('# '));
  return lines
    .slice(start + 1, end === -1 ? undefined : end)
    .filter((line) => line !== '');
}

/** Exemplar timestamps differ between the two (each stamps its own `Date.now()`). */
const EXEMPLAR_TIMESTAMP = / # \{([^}]*)\} (\S+) (\d+(?:\.\d+)?)$/;
function stamped(lines: string[]): { lines: string[]; stamps: number[] } {
  const stamps: number[] = [];
  return {
    lines: lines.map((line) =>
      line.replace(EXEMPLAR_TIMESTAMP, (_all, labels, value, stamp) => {
        stamps.push(Number(stamp));
        return ` # {${labels}} ${value} T`;
      }),
    ),
    stamps,
  };
}

describe('Exemplars rendered as prom-client renders its own', () => {
  it('writes the OpenMetrics lines of prom-client histograms and counters with the same exemplars', async () => {
    const before = Date.now() / 1000;
    const { ours, theirs } = record();
    const after = Date.now() / 1000;
    const ourText = (await renderExposition(ours, OPENMETRICS_TEXT)).text;
    const theirText = await theirs.metrics();

    for (const name of ['app_requests', 'app_request_duration_seconds']) {
      const mine = stamped(family(ourText, name));
      const reference = stamped(family(theirText, name));
      expect(mine.lines).toEqual(reference.lines);
      for (const stamp of [...mine.stamps, ...reference.stamps]) {
        expect(stamp).toBeGreaterThanOrEqual(before);
        expect(stamp).toBeLessThanOrEqual(after);
      }
    }
    const lines = stamped(
      family(ourText, 'app_request_duration_seconds'),
    ).lines;
    // 0.003 then 0.004 in the first bucket: the last one is kept.
    expect(lines).toContain(
      `app_request_duration_seconds_bucket{le="0.005",transport="http",method="GET",route="/a",status="200"} 2 # {${trace(2).labelText}} 0.004 T`,
    );
    expect(lines).toContain(
      `app_request_duration_seconds_bucket{le="+Inf",transport="http",method="GET",route="/a",status="200"} 5 # {${trace(4).labelText}} 7 T`,
    );
    // No span: no exemplar on the bucket of 0.5 s.
    expect(lines).toContain(
      'app_request_duration_seconds_bucket{le="1",transport="http",method="GET",route="/a",status="200"} 4',
    );
    expect(stamped(family(ourText, 'app_requests')).lines).toEqual([
      `app_requests_total{transport="http",method="GET",route="/a",status="200"} 5 # {${trace(4).labelText}} 1 T`,
      `app_requests_total{transport="http",method="GET",route="/a",status="500"} 1 # {${trace(5).labelText}} 1 T`,
      'app_requests_total{transport="http",method="GET",route="/b/:id",status="200"} 1',
      `app_requests_total{transport="http",method="GET",route="/b/:id",status="404"} 1 # {${trace(6).labelText}} 1 T`,
    ]);
    expect(ourText.match(/ # \{/g)).toHaveLength(3 + 5);
  });

  it('leaves the text format byte for byte as it is without exemplars', async () => {
    const withExemplars = record(true).ours;
    const without = record(false).ours;
    const text = (await renderExposition(withExemplars, PROMETHEUS_TEXT)).text;
    const uptime = (t: string) =>
      t.replace(/^(app_uptime_seconds) \S+$/m, '$1 0');
    expect(text).not.toContain('trace_id');
    expect(uptime(text)).toBe(
      uptime((await renderExposition(without, PROMETHEUS_TEXT)).text),
    );
    // prom-client's own rendering of the same registry agrees (it writes exemplars in OpenMetrics only).
    expect(uptime(text)).toBe(
      uptime(await Registry.prototype.metrics.call(withExemplars)),
    );
    expect(family(text, 'app_requests_total')).toHaveLength(4);
  });
});
