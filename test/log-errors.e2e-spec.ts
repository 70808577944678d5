import 'reflect-metadata';
import { readFileSync } from 'node:fs';
import {
  ConsoleLogger,
  Controller,
  Get,
  Injectable,
  Logger,
  Module,
  type INestApplication,
  type LoggerService,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import {
  LogErrorMetrics,
  MetricsModule,
  type CategoryRule,
  type MetricsModuleOptions,
} from '../lib/index.js';
import { LOG_ERRORS_FAMILY } from '../lib/logs/log-errors-family.js';
import {
  LogErrorEvents,
  type LogErrorRecord,
} from '../lib/logs/log-error-events.js';
import { ADAPTERS, createApp } from './helpers/create-app.js';
import {
  eventually,
  find,
  scrape,
  sum,
  type Sample,
} from './helpers/metrics-text.js';
import request from 'supertest';

/** A logger that keeps its calls in a private field: a call made on another `this` throws. */
class RecordingLogger implements LoggerService {
  readonly #calls: { method: string; args: unknown[] }[] = [];

  get calls(): readonly { method: string; args: unknown[] }[] {
    return this.#calls;
  }
  log(...args: unknown[]) {
    this.#calls.push({ method: 'log', args });
    return 'logged';
  }
  error(...args: unknown[]) {
    this.#calls.push({ method: 'error', args });
    return 'errored';
  }
  warn(...args: unknown[]) {
    this.#calls.push({ method: 'warn', args });
  }
  debug(...args: unknown[]) {
    this.#calls.push({ method: 'debug', args });
  }
  protected record(method: string, args: unknown[]) {
    this.#calls.push({ method, args });
  }
}

/** The same, with `fatal`. */
class FatalRecordingLogger extends RecordingLogger {
  fatal(...args: unknown[]) {
    this.record('fatal', args);
  }
}

class PaymentDeclined extends Error {}

class QueryFailedError extends Error {
  constructor(readonly driverError: Error) {
    super('duplicate key value violates unique constraint "orders_pkey"');
    this.name = new.target.name; // as TypeORM's TypeORMError does
  }
}

@Injectable()
class OrdersService {
  private readonly logger = new Logger(OrdersService.name);

  fail(): never {
    throw new TypeError("Cannot read properties of undefined (reading 'id')");
  }

  logAll(): void {
    this.logger.error(new QueryFailedError(new Error('23505')));
    const refused = Object.assign(new Error('connect ECONNREFUSED'), {
      code: 'ECONNREFUSED',
    });
    this.logger.error('Payment provider unreachable', refused.stack);
    // The Logger appends its context, so this is OrdersService, like ConsoleLogger prints it.
    this.logger.error(new TypeError('fetch failed', { cause: refused }));
    this.logger.fatal(new PaymentDeclined('card declined'));
    this.logger.warn('Retrying order 4711');
    this.logger.log('Order 4711 placed');
    Logger.error('rapid retries exhausted');
  }
}

@Controller()
class OrdersController {
  constructor(private readonly orders: OrdersService) {}

  @Get('fail')
  fail(): never {
    return this.orders.fail();
  }

  @Get('log')
  log(): string {
    this.orders.logAll();
    return 'ok';
  }
}

function fixture(options: MetricsModuleOptions = {}) {
  return {
    imports: [MetricsModule.forRoot({ defaultMetrics: false, ...options })],
    controllers: [OrdersController],
    providers: [OrdersService],
  };
}

const logErrors = (samples: Sample[]) =>
  find(samples, 'log_errors_total').map(
    ({ labels, value }) =>
      `${labels.level} ${labels.category} ${labels.logger} ${labels.exception_type} ${value}`,
  );

describe.each(ADAPTERS)('log_errors_total on %s', (adapter) => {
  let app: INestApplication;
  let logger: FatalRecordingLogger;

  afterEach(async () => {
    await app?.close();
  });

  async function start(options: MetricsModuleOptions = {}) {
    logger = new FatalRecordingLogger();
    app = await createApp(
      fixture(options),
      (created) => created.useLogger(created.get(LogErrorMetrics).wrap(logger)),
      adapter,
    );
  }

  it('counts an exception Nest logs for a failed request here and in errors_total', async () => {
    await start();
    await request(app.getHttpServer()).get('/fail').expect(500);
    const samples = await eventually(async () => {
      const scraped = await scrape(app);
      expect(sum(scraped, 'errors_total', { route: '/fail' })).toBe(1);
      return scraped;
    });
    expect(
      find(samples, 'errors_total', { route: '/fail' })[0]?.labels.error_type,
    ).toBe('internal');
    expect(logErrors(samples)).toEqual([
      'error general ExceptionsHandler TypeError 1',
    ]);
    // Forwarded unchanged: the Error itself, then Nest's `undefined` stack and the context.
    const [call] = logger.calls.filter(({ method }) => method === 'error');
    expect(call!.args).toHaveLength(3);
    expect(call!.args[0]).toBeInstanceOf(TypeError);
    expect(call!.args.slice(1)).toEqual([undefined, 'ExceptionsHandler']);
  });

  it('labels each call by level, category, Nest context and exception type', async () => {
    await start();
    const bootLines = logger.calls.length; // Nest's own start-up lines
    await request(app.getHttpServer()).get('/log').expect(200);
    const samples = await scrape(app);
    expect(logErrors(samples).sort()).toEqual(
      [
        'error database OrdersService QueryFailedError 1',
        'error general OrdersService Error 1',
        'error network OrdersService TypeError 1',
        'error general none none 1',
        'fatal general OrdersService PaymentDeclined 1',
      ].sort(),
    );
    // The stack-only call: "Error: connect ECONNREFUSED" is a stack, so OrdersService is the
    // context; the message "Payment provider unreachable" matches no default rule.
    expect(logger.calls.slice(bootLines).map(({ method }) => method)).toEqual([
      'error',
      'error',
      'error',
      'fatal',
      'warn',
      'log',
      'error',
    ]);
  });

  it('counts warn calls with logErrors.warn', async () => {
    await start({ logErrors: { warn: true } });
    await request(app.getHttpServer()).get('/log').expect(200);
    const samples = await scrape(app);
    expect(logErrors(samples)).toContain('warn general OrdersService none 1');
    expect(sum(samples, 'log_errors_total')).toBe(6);
  });

  it('does not count fatal calls the wrapped logger cannot take', async () => {
    const plain = new RecordingLogger();
    app = await createApp(
      fixture(),
      (created) => created.useLogger(created.get(LogErrorMetrics).wrap(plain)),
      adapter,
    );
    await request(app.getHttpServer()).get('/log').expect(200);
    // Nest's Logger calls `fatal?.()`: without fatal on the logger, the line goes nowhere.
    expect(plain.calls.map(({ method }) => method)).not.toContain('fatal');
    expect(sum(await scrape(app), 'log_errors_total', { level: 'fatal' })).toBe(
      0,
    );
    expect(sum(await scrape(app), 'log_errors_total')).toBe(4);
  });
});

describe('the wrapper', () => {
  let app: INestApplication;
  afterEach(async () => {
    await app?.close();
  });

  it('forwards every call unchanged, on the wrapped logger, with its result', async () => {
    app = await createApp(fixture());
    const target = new RecordingLogger();
    const wrapped = app.get(LogErrorMetrics).wrap(target);
    const error = new Error('x');
    expect(wrapped.log('a', { id: 1 }, 'Ctx')).toBe('logged');
    expect(wrapped.error(error, 'stack', 'Ctx')).toBe('errored');
    wrapped.warn('w');
    wrapped.debug!('d', 'Ctx');
    expect(target.calls).toEqual([
      { method: 'log', args: ['a', { id: 1 }, 'Ctx'] },
      { method: 'error', args: [error, 'stack', 'Ctx'] },
      { method: 'warn', args: ['w'] },
      { method: 'debug', args: ['d', 'Ctx'] },
    ]);
    expect(target.calls[1]!.args[0]).toBe(error);
    // Optional methods exist only when the wrapped logger has them.
    expect(Object.keys(wrapped).sort()).toEqual([
      'debug',
      'error',
      'log',
      'warn',
    ]);
    const consoleWrapped = app
      .get(LogErrorMetrics)
      .wrap(new ConsoleLogger({ logLevels: [] }));
    expect(Object.keys(consoleWrapped).sort()).toEqual([
      'debug',
      'error',
      'fatal',
      'log',
      'setLogLevels',
      'verbose',
      'warn',
    ]);
    expect(logErrors(await scrape(app))).toEqual(['error general Ctx Error 1']);
  });

  it('throws what the wrapped logger throws, and counts the call', async () => {
    app = await createApp(fixture());
    const failure = new Error('disk full');
    const wrapped = app.get(LogErrorMetrics).wrap({
      log() {},
      warn() {},
      error() {
        throw failure;
      },
    });
    expect(() => wrapped.error('x')).toThrow(failure);
    expect(logErrors(await scrape(app))).toEqual(['error general none none 1']);
  });

  it('forwards a call it fails to read, and does not throw', async () => {
    app = await createApp(fixture());
    const target = new RecordingLogger();
    const hostile = {
      get message(): string {
        throw new Error('hostile getter');
      },
    };
    const wrapped = app.get(LogErrorMetrics).wrap(target);
    expect(wrapped.error(hostile, 'Ctx')).toBe('errored');
    expect(target.calls).toEqual([{ method: 'error', args: [hostile, 'Ctx'] }]);
    expect(logErrors(await scrape(app))).toEqual([]);
  });

  it('takes the wrapped logger context when the call names none', async () => {
    app = await createApp(fixture());
    const console = new ConsoleLogger('Billing', { logLevels: [] });
    app.get(LogErrorMetrics).wrap(console).error('invoice failed');
    expect(logErrors(await scrape(app))).toEqual([
      'error general Billing none 1',
    ]);
  });

  it('folds logger names beyond maxSeries into OVERFLOW', async () => {
    app = await createApp(fixture({ maxSeries: 2 }));
    const wrapped = app.get(LogErrorMetrics).wrap(new RecordingLogger());
    for (const context of ['A', 'B', 'C', 'D']) wrapped.error('x', context);
    expect(logErrors(await scrape(app)).sort()).toEqual([
      'OVERFLOW OVERFLOW OVERFLOW OVERFLOW 2',
      'error general A none 1',
      'error general B none 1',
    ]);
  });

  it('never labels messages: the same error with other texts is one series', async () => {
    app = await createApp(fixture());
    const wrapped = app.get(LogErrorMetrics).wrap(new RecordingLogger());
    for (let run = 0; run < 50; run++)
      wrapped.error(`run ${run} failed for order ${run * 7}`, 'Jobs');
    expect(logErrors(await scrape(app))).toEqual([
      'error general Jobs none 50',
    ]);
  });

  it('emits each counted call to LogErrorEvents', async () => {
    app = await createApp(fixture());
    const records: LogErrorRecord[] = [];
    const stop = app.get(LogErrorEvents).subscribe((r) => records.push(r));
    const wrapped = app.get(LogErrorMetrics).wrap(new RecordingLogger());
    const before = Date.now();
    wrapped.error(new QueryFailedError(new Error('x')), 'OrdersService');
    wrapped.log('not counted');
    wrapped.warn('not counted');
    stop();
    wrapped.error('after unsubscribe');
    expect(records).toHaveLength(1);
    expect(records[0]).toEqual({
      timestamp: expect.any(Number),
      level: 'error',
      category: 'database',
      logger: 'OrdersService',
      exceptionType: 'QueryFailedError',
    });
    expect(records[0]!.timestamp).toBeGreaterThanOrEqual(before);
  });

  it('forwards without counting when the module is disabled', async () => {
    app = await createApp(fixture({ enabled: false }));
    const target = new RecordingLogger();
    app.get(LogErrorMetrics).wrap(target).error('x');
    expect(target.calls).toHaveLength(1);
    await request(app.getHttpServer()).get('/metrics').expect(404);
  });
});

@Injectable()
class LogsDuringBootstrap {
  constructor() {
    new Logger('Bootstrap').error(
      Object.assign(new Error('cache warm-up failed'), { code: 'ECONNRESET' }),
    );
  }
}

@Module({
  imports: [MetricsModule.forRoot({ defaultMetrics: false })],
  providers: [LogsDuringBootstrap],
})
class BootstrapModule {}

describe('errors logged during bootstrap', () => {
  let app: INestApplication | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  it('count with bufferLogs and app.useLogger()', async () => {
    const logger = new RecordingLogger();
    app = await NestFactory.create(BootstrapModule, { bufferLogs: true });
    app.useLogger(app.get(LogErrorMetrics).wrap(logger));
    await app.init();
    expect(logErrors(await scrape(app))).toEqual([
      'error network Bootstrap Error 1',
    ]);
    expect(
      logger.calls.filter(({ method }) => method === 'error'),
    ).toHaveLength(1);
  });

  it('count with bufferLogs and logErrors.logger (installed by the module)', async () => {
    const logger = new RecordingLogger();
    @Module({
      imports: [
        MetricsModule.forRoot({ defaultMetrics: false, logErrors: { logger } }),
      ],
      providers: [LogsDuringBootstrap],
    })
    class InstalledModule {}
    app = await NestFactory.create(InstalledModule, { bufferLogs: true });
    await app.init();
    expect(logErrors(await scrape(app))).toEqual([
      'error network Bootstrap Error 1',
    ]);
    expect(logger.calls.filter(({ method }) => method === 'error')).toEqual([
      {
        method: 'error',
        args: [expect.any(Error), undefined, 'Bootstrap'],
      },
    ]);
  });

  it('logErrors.logger is put back at app.close(): a closed app counts no more lines', async () => {
    const logger = new RecordingLogger();
    const before = new RecordingLogger();
    Logger.overrideLogger(before);
    try {
      @Module({
        imports: [
          MetricsModule.forRoot({
            defaultMetrics: false,
            logErrors: { logger },
          }),
        ],
      })
      class InstalledModule {}
      const closing = await NestFactory.create(InstalledModule);
      await closing.init();
      await closing.close();
      new Logger('AfterClose').error('after the app closed');
      expect(logger.calls.filter(({ method }) => method === 'error')).toEqual(
        [],
      );
      expect(
        before.calls.filter(({ method }) => method === 'error'),
      ).toHaveLength(1);
    } finally {
      Logger.overrideLogger(new ConsoleLogger());
    }
  });
});

const README = readFileSync(new URL('../README.md', import.meta.url), 'utf8');

describe('the README', () => {
  let app: INestApplication;
  afterEach(async () => {
    await app?.close();
  });

  it("profiler rules give the profiler's six categories", async () => {
    const literal =
      /export const PROFILER_CATEGORIES: CategoryRule\[\] = (\[[\s\S]*?\n\]);/.exec(
        README,
      )?.[1];
    expect(literal).toBeDefined();
    const categories = new Function(`return ${literal};`)() as CategoryRule[];
    app = await createApp(fixture({ logErrors: { categories } }));
    const wrapped = app.get(LogErrorMetrics).wrap(new RecordingLogger());
    const coded = (code: string) =>
      Object.assign(new Error('open /proc/1/maps'), { code });
    wrapped.error('sampling stopped', 'Profiler');
    wrapped.error('profiling session aborted', 'Jobs');
    wrapped.error('upload of profile 42 to S3 failed', 'Jobs');
    wrapped.error('out of memory while symbolizing', 'Jobs');
    wrapped.error(coded('ENOMEM'), 'Jobs');
    wrapped.error(coded('EACCES'), 'Jobs');
    wrapped.error('cpu probe failed', 'SystemMonitor');
    wrapped.error('docker stats unavailable', 'Jobs');
    wrapped.error(new TypeError('x is not a function'), 'Jobs');
    expect(logErrors(await scrape(app)).sort()).toEqual([
      'error container_error Jobs none 1',
      'error general_error Jobs TypeError 1',
      'error memory_error Jobs Error 1',
      'error memory_error Jobs none 1',
      'error profiler_error Jobs none 1',
      'error profiler_error Profiler none 1',
      'error system_error Jobs Error 1',
      'error system_error SystemMonitor none 1',
      'error upload_error Jobs none 1',
    ]);
  });

  it('describes log_errors_total as the family table does, and the scrape agrees', async () => {
    const row = README.split('\n').find((line) =>
      line.startsWith(`| \`${LOG_ERRORS_FAMILY.name}\``),
    );
    const cells = row?.split('|').map((cell) => cell.trim());
    expect(cells?.[2]).toBe(LOG_ERRORS_FAMILY.type);
    expect(cells?.[3]).toBe(
      LOG_ERRORS_FAMILY.labels.map((label) => `\`${label}\``).join(', '),
    );
    app = await createApp(fixture());
    app.get(LogErrorMetrics).wrap(new RecordingLogger()).error('x');
    const text = (await request(app.getHttpServer()).get('/metrics')).text;
    expect(text).toContain(
      `# HELP log_errors_total ${LOG_ERRORS_FAMILY.help}\n# TYPE log_errors_total counter\n`,
    );
  });
});
