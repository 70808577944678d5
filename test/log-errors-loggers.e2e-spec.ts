import 'reflect-metadata';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import type { INestApplication } from '@nestjs/common';
import { pino } from 'pino';
import winston from 'winston';
import { LogErrorMetrics, MetricsModule } from '../lib/index.js';
import { buildLibrary, type BuiltLibrary } from './helpers/built-library.js';
import { ADAPTERS, createApp } from './helpers/create-app.js';
import { FixtureProcess } from './helpers/fixture-process.js';
import {
  find,
  parseSamples,
  scrape,
  type Sample,
} from './helpers/metrics-text.js';

/** A stream that keeps every line (JSON) written to it. */
class Lines extends Writable {
  readonly lines: Record<string, unknown>[] = [];
  override _write(
    chunk: Buffer | string,
    _encoding: BufferEncoding,
    done: () => void,
  ) {
    for (const line of String(chunk).split('\n'))
      if (line.trim() !== '') this.lines.push(JSON.parse(line));
    done();
  }
}

class QueryFailedError extends Error {
  constructor() {
    super('duplicate key value violates unique constraint');
    this.name = new.target.name;
  }
}

const logErrors = (samples: Sample[]) =>
  find(samples, 'log_errors_total')
    .map(
      ({ labels, value }) =>
        `${labels.level} ${labels.category} ${labels.logger} ${labels.exception_type} ${value}`,
    )
    .sort();

const fixture = fileURLToPath(
  new URL('./fixtures/log-errors-loggers-app.mjs', import.meta.url),
);

describe('nestjs-pino and nest-winston loggers wrapped, in their own process', () => {
  let library: BuiltLibrary;
  beforeAll(() => {
    library = buildLibrary();
  });

  describe.each(ADAPTERS)('on %s', (adapter) => {
    it.each(['nestjs-pino', 'nest-winston'])(
      "%s: counts the app's error lines and writes them unchanged",
      async (loggerName) => {
        const app = new FixtureProcess(fixture, {
          LIBRARY: library.entry,
          LOGGER: loggerName,
          ADAPTER: adapter,
        });
        try {
          const [, json] = await app.printed(/^result (.*)$/);
          const result = JSON.parse(json!) as {
            statuses: number[];
            metrics: string;
            errors: { context: string; type: string | null }[];
            warnings: string[];
          };
          expect(result.statuses).toEqual([200, 500]);
          expect(logErrors(parseSamples(result.metrics))).toEqual([
            'error database ExceptionsHandler QueryFailedError 1',
            'error network UploadService Error 1',
          ]);
          // The logger still wrote its lines, with the context and the error, as without us.
          expect(result.errors.map(({ context }) => context)).toEqual([
            'UploadService',
            'ExceptionsHandler',
          ]);
          expect(result.errors[1]!.type).toBe('QueryFailedError');
          expect(result.warnings).toEqual([]);
          expect((await app.exited).code).toBe(0);
        } finally {
          await app.stop();
        }
      },
    );
  });
});

describe('apps that log straight through pino or winston', () => {
  let app: INestApplication;
  beforeEach(async () => {
    app = await createApp({
      imports: [MetricsModule.forRoot({ defaultMetrics: false })],
    });
  });
  afterEach(async () => {
    await app.close();
  });

  it('pino: hooks.logMethod counts error and fatal lines and writes every line', async () => {
    const out = new Lines();
    const logger = pino(
      { name: 'orders-api', hooks: app.get(LogErrorMetrics).pinoHooks() },
      out,
    );
    logger.error({ err: new QueryFailedError() }, 'insert failed');
    logger.error(
      new TypeError('fetch failed', {
        cause: Object.assign(new Error(), { code: 'ECONNREFUSED' }),
      }),
    );
    logger.child({ context: 'Uploader' }).error('upload %s failed', 'a.png');
    logger.error({ context: 'Profiler' }, 'sampling stopped');
    logger.fatal('JavaScript heap out of memory');
    logger.warn('slow query');
    logger.info('started');
    expect(logErrors(await scrape(app))).toEqual([
      'error database orders-api QueryFailedError 1',
      'error general Profiler none 1',
      'error general Uploader none 1',
      'error network orders-api TypeError 1',
      'fatal memory orders-api none 1',
    ]);
    // Every line is written as pino would without the hook (the format string applied).
    expect(out.lines.map((line) => line.msg)).toEqual([
      'insert failed',
      'fetch failed',
      'upload a.png failed',
      'sampling stopped',
      'JavaScript heap out of memory',
      'slow query',
      'started',
    ]);
  });

  it('winston: the transport counts error entries beside the other transports', async () => {
    const out = new Lines();
    const logger = winston.createLogger({
      format: winston.format.json(),
      transports: [
        app.get(LogErrorMetrics).winstonTransport(),
        new winston.transports.Stream({ stream: out }),
      ],
    });
    logger.error(new TypeError('boom'));
    logger.error('refused', {
      context: 'PaymentsClient',
      code: 'ECONNREFUSED',
    });
    logger.error('request failed', new RangeError('bad range'));
    logger.warn('slow');
    logger.info('started');
    await new Promise((resolve) => setImmediate(resolve));
    expect(logErrors(await scrape(app))).toEqual([
      'error general none RangeError 1',
      'error general none TypeError 1',
      'error network PaymentsClient none 1',
    ]);
    expect(out.lines).toHaveLength(5);
  });

  it('winston: syslog levels count as error and fatal, warn with logErrors.warn, label as logger', async () => {
    const warnApp = await createApp({
      imports: [
        MetricsModule.forRoot({
          defaultMetrics: false,
          prefix: 'audit_',
          logErrors: { warn: true },
        }),
      ],
    });
    try {
      const logger = winston.createLogger({
        levels: winston.config.syslog.levels,
        level: 'debug',
        format: winston.format.label({ label: 'AuditTrail' }),
        transports: [warnApp.get(LogErrorMetrics).winstonTransport()],
      });
      for (const level of ['emerg', 'alert', 'crit', 'error', 'warning']) {
        logger.log(level, `${level} line`);
      }
      logger.notice('not counted');
      logger.info('not counted');
      await new Promise((resolve) => setImmediate(resolve));
      const samples = await scrape(warnApp);
      expect(
        find(samples, 'audit_log_errors_total').map(
          ({ labels, value }) => `${labels.level} ${labels.logger} ${value}`,
        ),
      ).toEqual([
        'fatal AuditTrail 3',
        'error AuditTrail 1',
        'warn AuditTrail 1',
      ]);
    } finally {
      await warnApp.close();
    }
  });
});
