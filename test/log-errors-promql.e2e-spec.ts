import 'reflect-metadata';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  Controller,
  Get,
  Logger,
  Module,
  type INestApplication,
  type LoggerService,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { LogErrorMetrics, MetricsModule } from '../lib/index.js';
import { eventually, parseSamples, sum } from './helpers/metrics-text.js';
import {
  startPrometheus,
  type PrometheusServer,
} from './helpers/prometheus-server.js';
import { findSystemBinary } from './helpers/system-binary.js';

const prometheusBinary = findSystemBinary(
  'prometheus',
  'prometheus',
  'the PromQL of "Errors from logs" against a real Prometheus is',
);
const JOB = 'log-errors';

/** The README's PromQL block of "Errors counted twice", one expression per entry. */
function readmeExpressions(): string[] {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  const section = readme.slice(readme.indexOf('### Errors counted twice'));
  const block = /```promql\n([\s\S]*?)```/.exec(section)?.[1] ?? '';
  return block
    .split(/\n\s*\n/)
    .map((entry) =>
      entry
        .split('\n')
        .filter((line) => !line.trim().startsWith('#'))
        .join(' ')
        .trim(),
    )
    .filter((expr) => expr !== '');
}

/** `rate(x[5m])` → `x`: the same selectors as instant totals, which need no second scrape. */
const totals = (expr: string) => expr.replace(/rate\(([^[]+)\[5m\]\)/g, '$1');

const quiet: LoggerService = { log() {}, error() {}, warn() {} };

@Controller()
class JobsController {
  private readonly logger = new Logger('ImportJob');

  @Get('fail')
  fail(): never {
    throw new TypeError('boom');
  }

  @Get('import')
  import(): string {
    this.logger.error('import of batch 7 failed'); // logged, the request still succeeds
    return 'ok';
  }
}

@Module({
  imports: [MetricsModule.forRoot({ defaultMetrics: false })],
  controllers: [JobsController],
})
class AppModule {}

(prometheusBinary ? describe : describe.skip)(
  'the double-counting PromQL of the README, on a real Prometheus',
  () => {
    let app: INestApplication;
    let prometheus: PrometheusServer;

    beforeAll(async () => {
      app = await NestFactory.create(AppModule, { bufferLogs: true });
      app.useLogger(app.get(LogErrorMetrics).wrap(quiet));
      await app.listen(0, '127.0.0.1');
      const url = (await app.getUrl()).replace('[::1]', '127.0.0.1');
      for (let i = 0; i < 2; i++)
        expect((await fetch(`${url}/fail`)).status).toBe(500);
      for (let i = 0; i < 3; i++)
        expect((await fetch(`${url}/import`)).status).toBe(200);
      await eventually(async () => {
        const samples = parseSamples(
          await (await fetch(`${url}/metrics`)).text(),
        );
        expect(sum(samples, 'errors_total')).toBe(2);
      });
      prometheus = await startPrometheus(prometheusBinary!, {
        global: { scrape_interval: '1s' },
        scrape_configs: [
          {
            job_name: JOB,
            scrape_timeout: '1s',
            static_configs: [{ targets: [new URL(url).host] }],
          },
        ],
      });
      await prometheus.waitForScrapeAfter(JOB, Date.now());
    }, 60_000);

    afterAll(async () => {
      await prometheus?.stop();
      await app?.close();
    });

    const value = async (expr: string) =>
      (await prometheus.query(expr)).map((sample) => sample.value);

    it('counts a failed request in both families', async () => {
      expect(await value('sum(errors_total)')).toEqual([2]);
      expect(
        await value('sum(log_errors_total{logger="ExceptionsHandler"})'),
      ).toEqual([2]);
      expect(await value('sum(errors_total) + sum(log_errors_total)')).toEqual([
        7,
      ]);
    });

    it("the README's expressions leave the request errors out of the log errors", async () => {
      const [byCategory, everyErrorOnce] = readmeExpressions();
      expect(byCategory).toContain('log_errors_total{logger!~');
      const categories = await prometheus.query(totals(byCategory!));
      expect(
        categories.map(({ metric, value }) => [metric.category, value]),
      ).toEqual([['general', 3]]);
      expect(await value(totals(everyErrorOnce!))).toEqual([5]);
    });
  },
);
