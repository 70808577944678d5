import 'reflect-metadata';
import {
  Controller,
  Get,
  Injectable,
  InternalServerErrorException,
  Query,
  type INestApplication,
  type LoggerService,
  type ModuleMetadata,
} from '@nestjs/common';
import { Test } from '@nestjs/testing';
import type { AddressInfo } from 'node:net';
import {
  Counted,
  MetricsModule,
  MetricsService,
  type MetricsModuleOptions,
} from '../lib/index.js';
import { RequestMetrics } from '../lib/recorder/request-metrics.js';
import { KeepAliveClient } from './helpers/http-client.js';
import {
  eventually,
  find,
  parseSamples,
  sum,
  type Sample,
} from './helpers/metrics-text.js';

const MAX = 5;
const ROUTES = 20;
const OVERFLOW = 'OVERFLOW';

/** A controller with ROUTES routes `/many/r0` ... `/many/r19`; `?fail=1` makes them throw. */
@Controller('many')
class ManyRoutesController {}
for (let i = 0; i < ROUTES; i++) {
  const key = `route${i}`;
  Object.defineProperty(ManyRoutesController.prototype, key, {
    value(fail?: string) {
      if (fail) throw new InternalServerErrorException();
      return { route: i };
    },
    configurable: true,
    writable: true,
  });
  const prototype = ManyRoutesController.prototype as object;
  Query('fail')(prototype, key, 0);
  Get(`r${i}`)(
    prototype,
    key,
    Object.getOwnPropertyDescriptor(prototype, key)!,
  );
}

@Injectable()
class FlakyService {
  /** Throws an error of a class named after `name`: the `exception` label varies with it. */
  @Counted()
  fail(name: string): never {
    const ErrorClass = { [name]: class extends Error {} }[name];
    throw new ErrorClass('failed');
  }
}

/** Keeps the warnings the app logs. */
class WarningRecorder implements LoggerService {
  readonly warnings: string[] = [];
  log(): void {}
  error(): void {}
  warn(message: unknown): void {
    this.warnings.push(String(message));
  }
}

async function boot(
  metadata: ModuleMetadata,
  options: MetricsModuleOptions = {},
): Promise<{ app: INestApplication; logger: WarningRecorder }> {
  const logger = new WarningRecorder();
  const moduleRef = await Test.createTestingModule({
    ...metadata,
    imports: [
      MetricsModule.forRoot({
        defaultMetrics: false,
        maxSeries: MAX,
        ...options,
      }),
      ...(metadata.imports ?? []),
    ],
  }).compile();
  const app = moduleRef.createNestApplication({ logger });
  await app.init();
  return { app, logger };
}

const samplesOf = async (app: INestApplication): Promise<Sample[]> =>
  parseSamples(await app.get(MetricsService).metrics());

const warningsAbout = (logger: WarningRecorder, metric: string) =>
  logger.warnings.filter((w) => w.includes(`"${metric}"`));

describe('maxSeries', () => {
  let app: INestApplication;
  let logger: WarningRecorder;

  afterEach(async () => {
    await app?.close();
  });

  describe('on the request families', () => {
    let client: KeepAliveClient;

    beforeEach(async () => {
      ({ app, logger } = await boot({ controllers: [ManyRoutesController] }));
      await app.listen(0, '127.0.0.1');
      client = new KeepAliveClient(
        (app.getHttpServer().address() as AddressInfo).port,
        2,
      );
    });

    afterEach(() => client.close());

    it('keeps maxSeries label sets and folds the others into one OVERFLOW series, losing no request', async () => {
      // The first round in order, so the routes that take the slots are known: r0..r4.
      for (let i = 0; i < ROUTES; i++)
        expect((await client.send({ path: `/many/r${i}` })).status).toBe(200);
      const statuses = await client.sendMany(ROUTES, (i) => ({
        path: `/many/r${i}`,
      }));
      expect(statuses.every((s) => s === 200)).toBe(true);

      const samples = await eventually(async () => {
        const current = await samplesOf(app);
        expect(sum(current, 'requests_total')).toBe(ROUTES * 2);
        return current;
      });
      const series = find(samples, 'requests_total');
      expect(series).toHaveLength(MAX + 1);
      const overflow = find(samples, 'requests_total', {
        method: OVERFLOW,
        route: OVERFLOW,
        status: OVERFLOW,
      });
      expect(overflow).toHaveLength(1);
      expect(overflow[0].labels.transport).toBe('http');
      expect(overflow[0].value).toBe((ROUTES - MAX) * 2);
      const kept = series.filter((s) => s.labels.route !== OVERFLOW);
      expect(kept.map((s) => s.labels.route).sort()).toEqual([
        '/many/r0',
        '/many/r1',
        '/many/r2',
        '/many/r3',
        '/many/r4',
      ]);
      expect(kept.every((s) => s.value === 2)).toBe(true);
      for (const name of [
        'request_duration_seconds_count',
        'request_bytes_total',
        'response_bytes_total',
      ]) {
        expect(find(samples, name)).toHaveLength(MAX + 1);
      }
      expect(sum(samples, 'request_duration_seconds_count')).toBe(ROUTES * 2);
      expect(
        sum(samples, 'request_duration_seconds_bucket', { le: '+Inf' }),
      ).toBe(ROUTES * 2);

      const warnings = warningsAbout(logger, 'requests_total');
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toContain('"maxSeries"');
      expect(warnings[0]).toContain(`reached ${MAX} label sets`);
    });

    it('folds new statuses and errors too, keeping error_type', async () => {
      for (let i = 0; i < ROUTES; i++)
        expect((await client.send({ path: `/many/r${i}` })).status).toBe(200);
      const failures = await client.sendMany(ROUTES, (i) => ({
        path: `/many/r${i}?fail=1`,
      }));
      expect(failures.every((s) => s === 500)).toBe(true);

      const samples = await eventually(async () => {
        const current = await samplesOf(app);
        expect(sum(current, 'requests_total')).toBe(ROUTES * 2);
        return current;
      });
      // r0..r4 took the 5 slots with their 200s; their 500s and every request of r5..r19 overflow.
      expect(find(samples, 'requests_total')).toHaveLength(MAX + 1);
      expect(sum(samples, 'requests_total', { status: '500' })).toBe(0);
      expect(sum(samples, 'requests_total', { route: OVERFLOW })).toBe(
        ROUTES * 2 - MAX,
      );

      const errors = find(samples, 'errors_total');
      expect(errors).toHaveLength(MAX + 1);
      expect(sum(samples, 'errors_total', { error_type: 'internal' })).toBe(
        ROUTES,
      );
      expect(
        sum(samples, 'errors_total', {
          method: OVERFLOW,
          route: OVERFLOW,
          error_type: 'internal',
        }),
      ).toBe(ROUTES - MAX);
      expect(warningsAbout(logger, 'requests_total')).toHaveLength(1);
      expect(warningsAbout(logger, 'errors_total')).toHaveLength(0);

      // Errors fill errors_total's own slots: new error types on kept routes overflow.
      const metrics = app.get(RequestMetrics);
      const kept = metrics.route('http', 'GET', '/many/r0');
      metrics.record(kept, {
        status: '200',
        durationSeconds: 0.001,
        requestBytes: 0,
        responseBytes: 0,
        errorType: 'timeout',
      });
      const after = await samplesOf(app);
      expect(
        sum(after, 'errors_total', { route: OVERFLOW, error_type: 'timeout' }),
      ).toBe(1);
      expect(warningsAbout(logger, 'errors_total')).toHaveLength(1);
      expect(warningsAbout(logger, 'errors_total')[0]).toContain('"maxSeries"');
    });

    it('starts counting again after a registry reset', async () => {
      await client.sendMany(ROUTES, (i) => ({ path: `/many/r${i % 3}` }));
      app.get(MetricsService).registry.resetMetrics();
      await client.sendMany(3, (i) => ({ path: `/many/r${i}?fail=1` }));
      const samples = await eventually(async () => {
        const current = await samplesOf(app);
        expect(sum(current, 'requests_total')).toBe(3);
        return current;
      });
      expect(find(samples, 'requests_total')).toHaveLength(3);
      expect(sum(samples, 'requests_total', { status: '500' })).toBe(3);
      expect(find(samples, 'requests_total', { route: OVERFLOW })).toHaveLength(
        0,
      );
    });
  });

  it('bounds route() for values from user code, such as job and queue names', async () => {
    ({ app, logger } = await boot({}));
    const metrics = app.get(RequestMetrics);
    for (let i = 0; i < ROUTES; i++) {
      const series = metrics.route('queue', `send-email-${i}`, 'emails');
      metrics.started('queue');
      metrics.ended('queue');
      metrics.record(series, {
        status: 'completed',
        durationSeconds: 0.01,
        requestBytes: 10,
        responseBytes: 0,
        errorType: undefined,
      });
    }
    const samples = await samplesOf(app);
    const queue = { transport: 'queue' };
    expect(find(samples, 'requests_total', queue)).toHaveLength(MAX + 1);
    expect(sum(samples, 'requests_total', queue)).toBe(ROUTES);
    expect(sum(samples, 'requests_total', { ...queue, method: OVERFLOW })).toBe(
      ROUTES - MAX,
    );
    expect(sum(samples, 'request_bytes_total', queue)).toBe(ROUTES * 10);
    expect(JSON.stringify(samples)).not.toContain('send-email-19');
    expect(warningsAbout(logger, 'requests_total')).toHaveLength(1);
  });

  it('bounds every MetricsService metric, through each of its label-taking methods', async () => {
    ({ app, logger } = await boot({}));
    const service = app.get(MetricsService);
    const counter = service.counter('logins_total', { labelNames: ['user'] });
    const gauge = service.gauge('sessions', { labelNames: ['user'] });
    const histogram = service.histogram('login_seconds', {
      labelNames: ['user'],
      buckets: [1],
    });
    const summary = service.summary('login_size', { labelNames: ['user'] });

    for (let i = 0; i < ROUTES; i++) {
      const user = `user-${i}`;
      if (i % 2 === 0) counter.inc({ user }, 2);
      else counter.labels(user).inc(2);
      if (i % 2 === 0) gauge.inc({ user });
      else gauge.labels({ user }).inc();
      if (i % 3 === 0) histogram.observe({ user }, 0.5);
      else if (i % 3 === 1) histogram.labels(user).observe(0.5);
      else histogram.startTimer({ user })();
      summary.observe({ user }, 3);
    }

    const samples = await samplesOf(app);
    const user = { user: OVERFLOW };
    expect(find(samples, 'logins_total')).toHaveLength(MAX + 1);
    expect(sum(samples, 'logins_total')).toBe(ROUTES * 2);
    expect(sum(samples, 'logins_total', user)).toBe((ROUTES - MAX) * 2);
    expect(find(samples, 'sessions')).toHaveLength(MAX + 1);
    expect(sum(samples, 'sessions')).toBe(ROUTES);
    expect(sum(samples, 'sessions', user)).toBe(ROUTES - MAX);
    expect(find(samples, 'login_seconds_count')).toHaveLength(MAX + 1);
    expect(sum(samples, 'login_seconds_count')).toBe(ROUTES);
    expect(sum(samples, 'login_seconds_count', user)).toBe(ROUTES - MAX);
    expect(find(samples, 'login_size_count')).toHaveLength(MAX + 1);
    expect(sum(samples, 'login_size_sum')).toBe(ROUTES * 3);

    for (const name of [
      'logins_total',
      'sessions',
      'login_seconds',
      'login_size',
    ]) {
      const warnings = warningsAbout(logger, name);
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toContain('"maxSeries"');
    }

    // Known label sets keep working, and the public API is prom-client's.
    counter.labels('user-0').inc();
    expect(sum(await samplesOf(app), 'logins_total', { user: 'user-0' })).toBe(
      3,
    );
    // remove() gives a slot back; reset() gives them all back.
    counter.remove('user-1');
    counter.inc({ user: 'newcomer' });
    gauge.reset();
    gauge.set({ user: 'after-reset' }, 7);
    const after = await samplesOf(app);
    expect(sum(after, 'logins_total', { user: 'newcomer' })).toBe(1);
    expect(sum(after, 'logins_total', { user: 'user-1' })).toBe(0);
    expect(find(after, 'sessions')).toEqual([
      { name: 'sessions', labels: { user: 'after-reset' }, value: 7 },
    ]);
    expect(warningsAbout(logger, 'logins_total')).toHaveLength(1);
  });

  it('bounds @Counted labels that vary at run time (the exception class)', async () => {
    ({ app, logger } = await boot({ providers: [FlakyService] }));
    const flaky = app.get(FlakyService);
    for (let i = 0; i < ROUTES; i++) {
      expect(() => flaky.fail(`Failure${i}Error`)).toThrow('failed');
    }
    const samples = await samplesOf(app);
    expect(find(samples, 'method_calls_total')).toHaveLength(MAX + 1);
    expect(sum(samples, 'method_calls_total')).toBe(ROUTES);
    expect(
      sum(samples, 'method_calls_total', {
        exception: OVERFLOW,
        class: OVERFLOW,
      }),
    ).toBe(ROUTES - MAX);
    expect(warningsAbout(logger, 'method_calls_total')).toHaveLength(1);
  });

  it.each([0, -1, 1.5, '5', Infinity])(
    'rejects maxSeries %p at start-up, naming the option',
    async (maxSeries) => {
      await expect(
        Test.createTestingModule({
          imports: [MetricsModule.forRoot({ maxSeries: maxSeries as number })],
        }).compile(),
      ).rejects.toThrow(/option "maxSeries" must be a positive integer/);
    },
  );
});
