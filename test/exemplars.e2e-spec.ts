import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, Server } from 'node:http';
import { Controller, Get, Injectable } from '@nestjs/common';
import type { INestApplication } from '@nestjs/common';
import {
  context,
  trace,
  TraceFlags,
  type Span,
  type SpanContext,
} from '@opentelemetry/api';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { MetricsModule, MetricsService, Timed } from '../lib/index.js';
import { ADAPTERS, createApp, type AdapterName } from './helpers/create-app.js';
import {
  startPrometheus,
  type PrometheusServer,
} from './helpers/prometheus-server.js';
import { findSystemBinary } from './helpers/system-binary.js';

const OPENMETRICS = 'application/openmetrics-text; version=1.0.0';
const provider = new NodeTracerProvider();
provider.register();
const tracer = trace.getTracer('exemplars-e2e');

@Injectable()
class PricingService {
  @Timed()
  price(): number {
    return 42;
  }
}

@Controller()
class WorkController {
  constructor(private readonly pricing: PricingService) {}

  @Get('work')
  work(): { price: number } {
    return { price: this.pricing.price() };
  }

  /** Starts a span of its own while handling the request, as user code in a handler does. */
  @Get('inner')
  inner(): string {
    return tracer.startActiveSpan('handler', (span) => {
      span.end();
      return 'ok';
    });
  }
}

/** Declares the @Timed histogram itself, before the module makes it (without exemplars). */
@Injectable()
class DeclaresTimedHistogram {
  constructor(metrics: MetricsService) {
    metrics.histogram('method_duration_seconds', {
      labelNames: ['class', 'method', 'result', 'exception'],
    });
  }
}

type SpanKind = 'sampled' | 'unsampled' | 'none';

/**
 * Runs the server's 'request' listeners inside the context of a span, as OpenTelemetry's HTTP
 * instrumentation does (it wraps the server's `emit`): the span is chosen by the `x-span` header
 * of the request, and every sampled span made is kept in `spans`, in order.
 */
function traceRequests(server: Server, spans: SpanContext[]): void {
  const emit = server.emit;
  server.emit = function (
    this: Server,
    event: string | symbol,
    ...args: unknown[]
  ): boolean {
    const span =
      event === 'request'
        ? spanFor((args[0] as IncomingMessage).headers['x-span'] as SpanKind)
        : undefined;
    if (span === undefined)
      return Reflect.apply(emit, this, [event, ...args]) as boolean;
    if (span.spanContext().traceFlags & TraceFlags.SAMPLED)
      spans.push(span.spanContext());
    return context.with(
      trace.setSpan(context.active(), span),
      () => Reflect.apply(emit, this, [event, ...args]) as boolean,
    );
  } as Server['emit'];
}

function spanFor(kind: SpanKind | undefined): Span | undefined {
  switch (kind) {
    case 'sampled':
      return tracer.startSpan('GET');
    case 'unsampled':
      return trace.wrapSpanContext({
        traceId: randomBytes(16).toString('hex'),
        spanId: randomBytes(8).toString('hex'),
        traceFlags: TraceFlags.NONE,
      });
    default:
      return undefined;
  }
}

interface ExemplarLine {
  name: string;
  labels: string;
  exemplar: Record<string, string>;
  value: number;
}

const EXEMPLAR_LINE =
  /^(\w+)\{([^}]*)\} \S+ # \{([^}]*)\} (\S+) \d+(?:\.\d+)?$/;

/** Every sample line that carries an exemplar. */
function exemplarsOf(text: string): ExemplarLine[] {
  const found: ExemplarLine[] = [];
  for (const line of text.split('\n')) {
    if (!line.includes(' # {')) continue;
    const match = EXEMPLAR_LINE.exec(line);
    if (match === null) throw new Error(`not an exemplar line: ${line}`);
    found.push({
      name: match[1],
      labels: match[2],
      exemplar: Object.fromEntries(
        [...match[3].matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]),
      ),
      value: Number(match[4]),
    });
  }
  return found;
}

const ids = (span: SpanContext) => ({
  trace_id: span.traceId,
  span_id: span.spanId,
});

async function start(
  adapter: AdapterName,
  exemplars: boolean | { traceIdLabel?: string; spanIdLabel?: string },
  spans: SpanContext[],
  providers: unknown[] = [],
): Promise<{ app: INestApplication; url: string }> {
  const app = await createApp(
    {
      imports: [MetricsModule.forRoot({ exemplars })],
      controllers: [WorkController],
      providers: [PricingService, ...(providers as never[])],
    },
    undefined,
    adapter,
  );
  traceRequests(app.getHttpServer() as Server, spans);
  await app.listen(0, '127.0.0.1');
  return { app, url: await app.getUrl() };
}

async function get(url: string, span: SpanKind): Promise<void> {
  const response = await fetch(url, { headers: { 'x-span': span } });
  await response.text();
  expect(response.status).toBe(200);
}

async function scrape(url: string, accept = OPENMETRICS): Promise<string> {
  const response = await fetch(`${url}/metrics`, { headers: { accept } });
  return response.text();
}

afterAll(async () => {
  await provider.shutdown();
  trace.disable();
  context.disable();
});

describe.each(ADAPTERS)('Exemplars (%s)', (adapter) => {
  let app: INestApplication;
  let url: string;
  const spans: SpanContext[] = [];

  beforeAll(async () => {
    ({ app, url } = await start(adapter, true, spans));
  });
  afterAll(() => app.close());

  it('carries the ids of the sampled span a request arrived in, in OpenMetrics only', async () => {
    await get(`${url}/work`, 'sampled');
    await get(`${url}/work`, 'unsampled');
    await get(`${url}/work`, 'none');
    expect(spans).toHaveLength(1);
    const [sampled] = spans;

    const text = await scrape(url);
    const route = 'transport="http",method="GET",route="/work",status="200"';
    expect(text).toContain(`requests_total{${route}} 3 # {`);
    const found = exemplarsOf(text);
    // The unsampled span and the request without a span left none: one per family.
    expect(found.map(({ name, exemplar }) => ({ name, exemplar }))).toEqual([
      { name: 'requests_total', exemplar: ids(sampled) },
      { name: 'request_duration_seconds_bucket', exemplar: ids(sampled) },
      { name: 'method_duration_seconds_bucket', exemplar: ids(sampled) },
    ]);
    expect(found[0].labels).toBe(route);
    expect(found[0].value).toBe(1);
    expect(found[1].labels).toMatch(new RegExp(`^le="[^"]+",${route}$`));
    expect(found[1].value).toBeGreaterThan(0);
    expect(found[1].value).toBeLessThan(10);
    expect(found[2].labels).toMatch(
      /^le="[^"]+",class="PricingService",method="price",result="success",exception="none"$/,
    );

    const plain = await scrape(url, 'text/plain; version=0.0.4');
    expect(plain).toContain(`requests_total{${route}} 3\n`);
    expect(plain).not.toContain('# {');
    expect(plain).not.toContain(sampled.traceId);
  });

  it("sees the span of the request's arrival, not a span the handler starts", async () => {
    spans.length = 0;
    await get(`${url}/inner`, 'none');
    let found = exemplarsOf(await scrape(url)).filter((line) =>
      line.labels.includes('route="/inner"'),
    );
    expect(found).toEqual([]);

    await get(`${url}/inner`, 'sampled');
    found = exemplarsOf(await scrape(url)).filter((line) =>
      line.labels.includes('route="/inner"'),
    );
    expect(found.map((line) => line.exemplar)).toEqual([
      ids(spans[0]),
      ids(spans[0]),
    ]);
  });
});

describe.each(ADAPTERS)('Exemplars off or renamed (%s)', (adapter) => {
  it('writes none without the option, with a sampled span active', async () => {
    const spans: SpanContext[] = [];
    const { app, url } = await start(adapter, false, spans);
    try {
      await get(`${url}/work`, 'sampled');
      expect(spans).toHaveLength(1);
      const text = await scrape(url);
      expect(text).toContain(
        'requests_total{transport="http",method="GET",route="/work",status="200"} 1\n',
      );
      expect(exemplarsOf(text)).toEqual([]);
    } finally {
      await app.close();
    }
  });

  it('leaves out a @Timed histogram declared beforehand without exemplars, and still times it', async () => {
    const spans: SpanContext[] = [];
    const { app, url } = await start(adapter, true, spans, [
      DeclaresTimedHistogram,
    ]);
    try {
      await get(`${url}/work`, 'sampled');
      const text = await scrape(url);
      expect(text).toContain(
        'method_duration_seconds_count{class="PricingService",method="price",result="success",exception="none"} 1\n',
      );
      expect(exemplarsOf(text).map((line) => line.name)).toEqual([
        'requests_total',
        'request_duration_seconds_bucket',
      ]);
    } finally {
      await app.close();
    }
  });

  it('uses the configured label names', async () => {
    const spans: SpanContext[] = [];
    const { app, url } = await start(
      adapter,
      { traceIdLabel: 'traceID', spanIdLabel: 'spanID' },
      spans,
    );
    try {
      await get(`${url}/work`, 'sampled');
      const found = exemplarsOf(await scrape(url));
      expect(found.map((line) => line.exemplar)).toEqual(
        Array(3).fill({ traceID: spans[0].traceId, spanID: spans[0].spanId }),
      );
    } finally {
      await app.close();
    }
  });
});

const prometheusBinary = findSystemBinary(
  'prometheus',
  'prometheus',
  'the exemplar tests against a real Prometheus are',
);

(prometheusBinary ? describe.each(ADAPTERS) : describe.skip.each(ADAPTERS))(
  'Exemplars stored by Prometheus (%s)',
  (adapter) => {
    let app: INestApplication;
    let url: string;
    let prometheus: PrometheusServer;
    const spans: SpanContext[] = [];

    beforeAll(async () => {
      ({ app, url } = await start(adapter, true, spans));
      prometheus = await startPrometheus(
        prometheusBinary!,
        {
          global: { scrape_interval: '1s' },
          scrape_configs: [
            {
              job_name: 'app',
              static_configs: [{ targets: [new URL(url).host] }],
            },
          ],
        },
        ['--enable-feature=exemplar-storage'],
      );
    }, 30_000);
    afterAll(async () => {
      await prometheus?.stop();
      await app?.close();
    });

    it('returns the trace id of the request from /api/v1/query_exemplars', async () => {
      const before = Date.now();
      await get(`${url}/work`, 'sampled');
      await prometheus.waitForScrapeAfter('app', Date.now());
      const exemplarsOfQuery = (query: string) =>
        prometheus.api<
          {
            seriesLabels: Record<string, string>;
            exemplars: { labels: Record<string, string>; value: string }[];
          }[]
        >('/api/v1/query_exemplars', {
          query,
          start: String((before - 60_000) / 1000),
          end: String(Date.now() / 1000 + 60),
        });
      const expected = { trace_id: spans[0].traceId, span_id: spans[0].spanId };
      for (const query of [
        'request_duration_seconds_bucket{route="/work"}',
        'requests_total{route="/work"}',
        'method_duration_seconds_bucket{method="price"}',
      ]) {
        const result = await exemplarsOfQuery(query);
        expect(result).toHaveLength(1);
        expect(result[0].seriesLabels.job).toBe('app');
        expect(result[0].exemplars.map((e) => e.labels)).toEqual([expected]);
      }
    }, 30_000);
  },
);
