import 'reflect-metadata';
import { Writable } from 'node:stream';
import { Module, type LoggerService } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { pino } from 'pino';
import { loadDist, type Library } from './library.js';
import { fixed, median } from './stats.js';

// The cost of log_errors_total per log call: `npm run bench -- log-errors [--quick]`.
// Each case calls a logger in a loop, through the wrapper (or the pino hook) and bare; the
// wrapped logger does nothing, so the difference is what counting adds. Prints a markdown table.

type LogErrorEventsModule = typeof import('../lib/logs/log-error-events.js');

interface Case {
  readonly name: string;
  /** One call on `logger`; `i` picks among prepared arguments. */
  readonly call: (logger: LoggerService, i: number) => unknown;
}

class QueryFailedError extends Error {
  constructor() {
    super('duplicate key value violates unique constraint "orders_pkey"');
    this.name = new.target.name;
  }
}

const MESSAGES = Array.from(
  { length: 16 },
  (_, i) => `order ${i * 7919} could not be placed`,
);
const QUERY_ERRORS = Array.from({ length: 16 }, () => new QueryFailedError());
const TYPE_ERRORS = Array.from(
  { length: 16 },
  (_, i) =>
    new TypeError(`Cannot read properties of undefined (reading '${i}')`),
);

const CASES: readonly Case[] = [
  {
    name: "log('…', 'OrdersService'): forwarded, not counted",
    call: (logger, i) => logger.log(MESSAGES[i & 15], 'OrdersService'),
  },
  {
    name: "debug('…', 'OrdersService'): forwarded, not counted",
    call: (logger, i) => logger.debug!(MESSAGES[i & 15], 'OrdersService'),
  },
  {
    name: "error(new QueryFailedError(), 'OrdersService'): database, first rule",
    call: (logger, i) => logger.error(QUERY_ERRORS[i & 15], 'OrdersService'),
  },
  {
    name: "error(new TypeError(), 'ExceptionsHandler'): general, every rule tried",
    call: (logger, i) => logger.error(TYPE_ERRORS[i & 15], 'ExceptionsHandler'),
  },
  {
    name: "error('…', 'OrdersService'): a message, no error, every rule tried",
    call: (logger, i) => logger.error(MESSAGES[i & 15], 'OrdersService'),
  },
];

const quick = process.argv.includes('--quick');
const iterations = quick ? 50_000 : 500_000;
const repetitions = quick ? 3 : 9;

/** Median ns per call of `run` over the repetitions, after one warm-up. */
function measure(run: (i: number) => unknown): number {
  const loop = (): number => {
    const start = process.hrtime.bigint();
    for (let i = 0; i < iterations; i++) run(i);
    return Number(process.hrtime.bigint() - start) / iterations;
  };
  loop();
  const samples: number[] = [];
  for (let r = 0; r < repetitions; r++) samples.push(loop());
  return median(samples);
}

/** A `LoggerService` whose methods do nothing: only the wrapper's cost shows. */
function bareLogger(): LoggerService {
  const sink: unknown[] = [];
  const keep = (message: unknown) => {
    sink[0] = message;
  };
  return { log: keep, error: keep, warn: keep, debug: keep, fatal: keep };
}

export async function runLogErrorsBench(): Promise<string> {
  const { LogErrorMetrics, MetricsModule } =
    await loadDist<Library>('index.js');
  const { LogErrorEvents } = await loadDist<LogErrorEventsModule>(
    'logs/log-error-events.js',
  );
  class BenchModule {}
  Module({ imports: [MetricsModule.forRoot({ defaultMetrics: false })] })(
    BenchModule,
  );
  const app = await NestFactory.createApplicationContext(BenchModule, {
    logger: false,
  });
  const metrics = app.get(LogErrorMetrics);
  const rows: string[] = [];
  const row = (name: string, bare: number, counted: number) =>
    rows.push(
      `| ${name} | ${fixed(bare, 1)} | ${fixed(counted, 1)} | ${fixed(counted - bare, 1)} |`,
    );

  for (const c of CASES) {
    const bare = bareLogger();
    const wrapped = metrics.wrap(bareLogger());
    row(
      c.name,
      measure((i) => c.call(bare, i)),
      measure((i) => c.call(wrapped, i)),
    );
  }
  // A sink listening: the record is built and handed to it.
  const stop = app.get(LogErrorEvents).subscribe(() => undefined);
  {
    const bare = bareLogger();
    const wrapped = metrics.wrap(bareLogger());
    row(
      `${CASES[2]!.name}, a LogErrorEvents sink listening`,
      measure((i) => CASES[2]!.call(bare, i)),
      measure((i) => CASES[2]!.call(wrapped, i)),
    );
  }
  stop();
  // pino, writing to a stream that drops the lines.
  const devNull = () =>
    new Writable({
      write(_chunk, _encoding, done) {
        done();
      },
    });
  const plain = pino(devNull());
  const hooked = pino({ hooks: metrics.pinoHooks() }, devNull());
  row(
    "pino error({ err: new QueryFailedError() }, '…') (hooks.logMethod)",
    measure((i) =>
      plain.error({ err: QUERY_ERRORS[i & 15] }, MESSAGES[i & 15]),
    ),
    measure((i) =>
      hooked.error({ err: QUERY_ERRORS[i & 15] }, MESSAGES[i & 15]),
    ),
  );
  row(
    "pino info('…') (hooks.logMethod, not counted)",
    measure((i) => plain.info(MESSAGES[i & 15])),
    measure((i) => hooked.info(MESSAGES[i & 15])),
  );
  await app.close();
  return [
    `log_errors_total: ns per call, median of ${repetitions} × ${iterations.toLocaleString('en')} calls (Node ${process.version})`,
    '',
    '| call | bare logger (ns) | counted (ns) | added (ns) |',
    '| ---- | ---------------: | -----------: | ---------: |',
    ...rows,
  ].join('\n');
}
