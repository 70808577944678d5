import 'reflect-metadata';
import {
  Controller,
  Get,
  Module,
  NotFoundException,
  Query,
  type INestApplication,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import {
  MetricsModule,
  MetricsService,
  type LatencyQuantiles,
  type MetricsSummary,
} from '../lib/index.js';
import { eventually } from './helpers/metrics-text.js';
import {
  startPrometheus,
  type PrometheusServer,
} from './helpers/prometheus-server.js';
import { seededRandom } from './helpers/seeded-random.js';
import { findSystemBinary } from './helpers/system-binary.js';

const prometheusBinary = findSystemBinary(
  'prometheus',
  'prometheus',
  'the summary checks against a real Prometheus are',
);
const JOB = 'summary-app';
const WINDOW_SECONDS = 4;
/**
 * Both sides interpolate the same integer bucket counts with the same formula, so they agree up
 * to floating point: the tolerance the README documents, relative.
 */
const TOLERANCE = 1e-9;
const QUANTILES = { p50: 0.5, p95: 0.95, p99: 0.99 } as const;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

@Controller()
class WorkController {
  @Get('work')
  async work(@Query('ms') ms: string) {
    await sleep(Number(ms));
    return 'done';
  }

  @Get('missing')
  missing() {
    throw new NotFoundException();
  }
}

@Module({
  imports: [
    MetricsModule.forRoot({
      defaultMetrics: false,
      summary: { windowSeconds: WINDOW_SECONDS },
    }),
  ],
  controllers: [WorkController],
})
class AppModule {}

function expectClose(actual: number | null, expected: number): void {
  expect(actual).not.toBeNull();
  const scale = Math.max(Math.abs(expected), 1e-12);
  expect(Math.abs(actual! - expected) / scale).toBeLessThanOrEqual(TOLERANCE);
}

(prometheusBinary ? describe : describe.skip)(
  "The summary's percentiles against Prometheus' histogram_quantile",
  () => {
    let app: INestApplication;
    let appUrl: string;
    let prometheus: PrometheusServer;
    const random = seededRandom('summary-prometheus');

    /** An instant query at `time` (epoch seconds): the single value of its vector. */
    async function valueAt(expr: string, time: number): Promise<number> {
      const data = await prometheus.api<{
        result: { value: [number, string] }[];
      }>('/api/v1/query', { query: expr, time: String(time) });
      expect(data.result).toHaveLength(1);
      return Number(data.result[0].value[1]);
    }

    async function expectQuantiles(
      quantiles: LatencyQuantiles,
      buckets: string,
      time: number,
    ): Promise<void> {
      for (const [key, q] of Object.entries(QUANTILES)) {
        const expected = await valueAt(
          `histogram_quantile(${q}, sum by (le) (${buckets}))`,
          time,
        );
        expectClose(quantiles[key as keyof LatencyQuantiles], expected);
      }
    }

    /** Requests with delays drawn between 0 and 40 ms, and a few 404s. */
    async function sendTraffic(count: number): Promise<void> {
      for (let i = 0; i < count; i++) {
        const path =
          i % 10 === 9 ? '/missing' : `/work?ms=${random.int(0, 40)}`;
        await fetch(`${appUrl}${path}`);
      }
    }

    async function summaryWith(requests: number): Promise<MetricsSummary> {
      return eventually(async () => {
        const summary = await app.get(MetricsService).summary();
        expect(summary.transports.http?.requests).toBe(requests);
        return summary;
      });
    }

    beforeAll(async () => {
      app = await NestFactory.create(AppModule, { logger: false });
      await app.listen(0, '127.0.0.1');
      appUrl = await app.getUrl();
      prometheus = await startPrometheus(prometheusBinary!, {
        global: { scrape_interval: '1s' },
        scrape_configs: [
          {
            job_name: JOB,
            metrics_path: '/metrics',
            scrape_timeout: '1s',
            static_configs: [{ targets: [new URL(appUrl).host] }],
          },
        ],
      });
    }, 60_000);

    afterAll(async () => {
      await prometheus?.stop();
      await app?.close();
    });

    it('gives the lifetime and window p50/p95/p99 Prometheus computes from the same buckets', async () => {
      const metrics = app.get(MetricsService);
      const jobs = metrics.histogram('job_duration_seconds', {
        help: 'Jobs.',
        labelNames: ['queue'],
        buckets: [0.01, 0.05, 0.1, 0.5, 1, 5],
      });
      for (let i = 0; i < 300; i++)
        jobs.observe(
          { queue: i % 3 === 0 ? 'mail' : 'report' },
          random.next() ** 3 * 6,
        );

      // Phase 1, then a scrape that holds all of it.
      await sendTraffic(40);
      await summaryWith(40);
      await prometheus.waitForScrapeAfter(JOB, Date.now());
      const t0 = Date.now() / 1000;
      const first = await metrics.summary();
      const snapshot = await metrics.snapshot();
      await expectQuantiles(
        first.transports.http.latency_seconds.lifetime,
        'request_duration_seconds_bucket{transport="http"}',
        t0,
      );
      const jobSeries = snapshot.histograms.job_duration_seconds.series;
      expect(jobSeries.map((s) => s.labels.queue).sort()).toEqual([
        'mail',
        'report',
      ]);
      for (const series of jobSeries) {
        for (const [key, q] of Object.entries(QUANTILES)) {
          const expected = await valueAt(
            `histogram_quantile(${q}, job_duration_seconds_bucket{queue="${series.labels.queue}"})`,
            t0,
          );
          expectClose(series[key as keyof LatencyQuantiles], expected);
        }
      }

      // Longer than the window: phase 1 leaves it. Phase 2 uses the same label sets.
      await sleep(WINDOW_SECONDS * 1000 + 500);
      await sendTraffic(20);
      const second = await summaryWith(60);
      await prometheus.waitForScrapeAfter(JOB, Date.now());
      const t1 = Date.now() / 1000;
      const http = second.transports.http;
      expect(http.top_routes_by_p95.map((r) => [r.route, r.requests])).toEqual([
        ['/work', 18],
        ['/missing', 2],
      ]);
      expect(http.error_ratio).toBe(2 / 20);
      // The window is what changed since t0: bucket by bucket, later minus earlier.
      const bucket = 'request_duration_seconds_bucket{transport="http"}';
      await expectQuantiles(
        http.latency_seconds.window,
        `${bucket} - ${bucket} @ ${t0}`,
        t1,
      );
      await expectQuantiles(http.latency_seconds.lifetime, bucket, t1);
      const route = http.top_routes_by_p95[0];
      expectClose(
        route.p95,
        await valueAt(
          `histogram_quantile(0.95, sum by (le) (${bucket.replace('"}', '", route="/work"}')} - ${bucket.replace('"}', '", route="/work"}')} @ ${t0}))`,
          t1,
        ),
      );
    }, 60_000);
  },
);
