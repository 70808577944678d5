import 'reflect-metadata';
import { Test } from '@nestjs/testing';
import type { INestApplication, ModuleMetadata } from '@nestjs/common';
import {
  GUARDS_METADATA,
  INTERCEPTORS_METADATA,
  METHOD_METADATA,
  PATH_METADATA,
} from '@nestjs/common/constants.js';
import { lastValueFrom, toArray } from 'rxjs';
import request from 'supertest';
import { MetricsModule, MetricsService } from '../lib/index.js';
import { COUNTED_METADATA, TIMED_METADATA } from '../lib/metrics.constants.js';
import { createApp } from './helpers/create-app.js';
import {
  find,
  parseSamples,
  scrape,
  sum,
  type Sample,
} from './helpers/metrics-text.js';
import { stopwatch } from './helpers/stopwatch.js';
import {
  ApiKeyGuard,
  BadClassLevelService,
  BadCountedNameController,
  BadLabelService,
  BadTimedNameService,
  CalculatorService,
  CUSTOM_METADATA_KEY,
  InventoryService,
  NotificationService,
  OrdersController,
  PaymentDeclinedError,
  ReportService,
  ReportsController,
  StreamBrokenError,
  TeamsListingController,
  UsersListingController,
} from './fixtures/decorated.fixtures.js';

const DURATION = 'method_duration_seconds';
const CALLS = 'method_calls_total';

async function samplesOf(app: INestApplication): Promise<Sample[]> {
  return parseSamples(await app.get(MetricsService).metrics());
}

/** Labels of a default-named series of CalculatorService. */
const calc = (method: string, result = 'success', exception = 'none') => ({
  class: 'CalculatorService',
  method,
  result,
  exception,
});

describe('@Timed and @Counted on providers', () => {
  let app: INestApplication;
  let calculator: CalculatorService;
  let inventory: InventoryService;

  beforeEach(async () => {
    app = await createApp({
      imports: [MetricsModule.forRoot({ defaultMetrics: false })],
      providers: [CalculatorService, InventoryService],
    });
    calculator = app.get(CalculatorService);
    inventory = app.get(InventoryService);
  });

  afterEach(async () => {
    await app.close();
  });

  describe('sync methods', () => {
    it('counts and times each successful call with its class, method and result', async () => {
      expect(calculator.add(2, 3)).toBe(5);
      expect(calculator.add(4, 5)).toBe(9);

      const s = await samplesOf(app);
      expect(find(s, CALLS, { method: 'add' })).toEqual([
        { name: CALLS, labels: calc('add'), value: 2 },
      ]);
      expect(find(s, `${DURATION}_count`, { method: 'add' })).toEqual([
        { name: `${DURATION}_count`, labels: calc('add'), value: 2 },
      ]);
      expect(sum(s, `${DURATION}_sum`, calc('add'))).toBeGreaterThan(0);
      expect(sum(s, `${DURATION}_bucket`, { ...calc('add'), le: '+Inf' })).toBe(
        2,
      );
    });

    it('records a throw as a failure labelled with the error class, and rethrows it', async () => {
      expect(() => calculator.divide(1, 0)).toThrow(RangeError);
      expect(() => calculator.divide(1, 0)).toThrow('division by zero');
      expect(calculator.divide(9, 3)).toBe(3);

      const s = await samplesOf(app);
      expect(
        find(s, CALLS, { method: 'divide' }).sort((a, b) => a.value - b.value),
      ).toEqual([
        { name: CALLS, labels: calc('divide'), value: 1 },
        {
          name: CALLS,
          labels: calc('divide', 'failure', 'RangeError'),
          value: 2,
        },
      ]);
      expect(
        sum(s, `${DURATION}_count`, calc('divide', 'failure', 'RangeError')),
      ).toBe(2);
      expect(sum(s, `${DURATION}_count`, calc('divide'))).toBe(1);
    });

    it('labels non-Error throws by their type', async () => {
      expect(() => calculator.rethrow('just a string')).toThrow(
        'just a string',
      );
      const s = await samplesOf(app);
      expect(find(s, CALLS, { method: 'rethrow' })).toEqual([
        { name: CALLS, labels: calc('rethrow', 'failure', 'string'), value: 1 },
      ]);
    });
  });

  describe('methods returning a Promise', () => {
    it('records nothing before settlement and a success after it, timed to settlement', async () => {
      const pending = calculator.addLater(1, 2, 30);
      expect(pending).toBeInstanceOf(Promise);
      expect(find(await samplesOf(app), CALLS, { method: 'addLater' })).toEqual(
        [],
      );

      expect(await pending).toBe(3);

      const s = await samplesOf(app);
      expect(find(s, CALLS, { method: 'addLater' })).toEqual([
        { name: CALLS, labels: calc('addLater'), value: 1 },
      ]);
      expect(sum(s, `${DURATION}_count`, calc('addLater'))).toBe(1);
      expect(
        sum(s, `${DURATION}_sum`, calc('addLater')),
      ).toBeGreaterThanOrEqual(0.025);
    });

    it('records a rejection as a failure labelled with the error class', async () => {
      await expect(calculator.charge(10)).rejects.toBeInstanceOf(
        PaymentDeclinedError,
      );
      await expect(calculator.charge(10)).rejects.toThrow('card declined');

      const s = await samplesOf(app);
      expect(find(s, CALLS, { method: 'charge' })).toEqual([
        {
          name: CALLS,
          labels: calc('charge', 'failure', 'PaymentDeclinedError'),
          value: 2,
        },
      ]);
      expect(
        sum(
          s,
          `${DURATION}_count`,
          calc('charge', 'failure', 'PaymentDeclinedError'),
        ),
      ).toBe(2);
      expect(
        sum(
          s,
          `${DURATION}_sum`,
          calc('charge', 'failure', 'PaymentDeclinedError'),
        ),
      ).toBeGreaterThanOrEqual(0.015);
    });

    it('falls in the right bucket of custom buckets when slow', async () => {
      const elapsed = stopwatch();
      await expect(inventory.restock('pear', 120)).resolves.toBe(1);
      const seenByCaller = elapsed();

      const s = await samplesOf(app);
      const labels = {
        class: 'InventoryService',
        method: 'restock',
        result: 'success',
        exception: 'none',
        component: 'inventory',
        tier: 'core',
      };
      const seconds = sum(s, 'inventory_duration_seconds_sum', labels);
      // Cumulative: the observation is in every bucket from the first bound at or above it.
      const upTo = (le: number) => Number(seconds <= le);
      const buckets = find(s, 'inventory_duration_seconds_bucket', {
        method: 'restock',
      });
      expect(buckets).toEqual([
        {
          name: 'inventory_duration_seconds_bucket',
          labels: { le: '0.05', ...labels },
          value: 0,
        },
        {
          name: 'inventory_duration_seconds_bucket',
          labels: { le: '0.5', ...labels },
          value: upTo(0.5),
        },
        {
          name: 'inventory_duration_seconds_bucket',
          labels: { le: '5', ...labels },
          value: upTo(5),
        },
        {
          name: 'inventory_duration_seconds_bucket',
          labels: { le: '+Inf', ...labels },
          value: 1,
        },
      ]);
      expect(seconds).toBeGreaterThanOrEqual(0.11);
      expect(seconds).toBeLessThanOrEqual(seenByCaller);
    });
  });

  describe('methods returning an Observable', () => {
    it('records nothing before subscription and a success at completion', async () => {
      const values$ = calculator.countTo(3, 30);
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(find(await samplesOf(app), CALLS, { method: 'countTo' })).toEqual(
        [],
      );

      const sinceSubscription = stopwatch();
      expect(await lastValueFrom(values$.pipe(toArray()))).toEqual([1, 2, 3]);
      const seenBySubscriber = sinceSubscription();

      const s = await samplesOf(app);
      expect(find(s, CALLS, { method: 'countTo' })).toEqual([
        { name: CALLS, labels: calc('countTo'), value: 1 },
      ]);
      expect(sum(s, `${DURATION}_count`, calc('countTo'))).toBe(1);
      // Timed from subscription (not from the call 300 ms earlier) to completion.
      const seconds = sum(s, `${DURATION}_sum`, calc('countTo'));
      expect(seconds).toBeGreaterThanOrEqual(0.025);
      expect(seconds).toBeLessThanOrEqual(seenBySubscriber);
    });

    it('records an error notification as a failure and passes the error on', async () => {
      await expect(
        lastValueFrom(calculator.brokenStream(10)),
      ).rejects.toBeInstanceOf(StreamBrokenError);

      const s = await samplesOf(app);
      expect(find(s, CALLS, { method: 'brokenStream' })).toEqual([
        {
          name: CALLS,
          labels: calc('brokenStream', 'failure', 'StreamBrokenError'),
          value: 1,
        },
      ]);
      expect(
        sum(
          s,
          `${DURATION}_count`,
          calc('brokenStream', 'failure', 'StreamBrokenError'),
        ),
      ).toBe(1);
    });

    it('records each subscription separately', async () => {
      const values$ = calculator.countTo(1, 1);
      await lastValueFrom(values$);
      await lastValueFrom(values$);
      expect(sum(await samplesOf(app), CALLS, calc('countTo'))).toBe(2);
    });
  });

  describe('the wrapped method is otherwise unchanged', () => {
    it('returns the very same Promise object', async () => {
      const promise = Promise.resolve('value');
      expect(calculator.passThrough(promise)).toBe(promise);
      await promise;
      await new Promise((resolve) => setImmediate(resolve));
      expect(sum(await samplesOf(app), CALLS, calc('passThrough'))).toBe(1);
    });

    it('returns the very same rejected Promise, which rejects with the same error', async () => {
      const error = new PaymentDeclinedError('no funds');
      const rejected = Promise.reject(error);
      const returned = calculator.passThrough(rejected);
      expect(returned).toBe(rejected);
      await expect(returned).rejects.toBe(error);
      await new Promise((resolve) => setImmediate(resolve));
      expect(
        sum(
          await samplesOf(app),
          CALLS,
          calc('passThrough', 'failure', 'PaymentDeclinedError'),
        ),
      ).toBe(1);
    });

    it('returns other values unchanged', () => {
      const value = { nested: [1, 2] };
      expect(calculator.passThrough(value)).toBe(value);
      expect(calculator.passThrough(undefined)).toBeUndefined();
    });

    it('throws the very same error object', () => {
      const error = new TypeError('original');
      let caught: unknown;
      try {
        calculator.rethrow(error);
      } catch (e) {
        caught = e;
      }
      expect(caught).toBe(error);
    });

    it('keeps `this`', () => {
      expect(calculator.self()).toBe(calculator);
      expect(calculator.describe()).toBe('owned by calculator');
    });

    it('keeps its name and its reflect-metadata', () => {
      // Measured once, when the class is declared: the instance uses the prototype's method...
      const wrapped = calculator.passThrough;
      expect(wrapped).toBe(CalculatorService.prototype.passThrough);
      // ...that looks like the original.
      expect(wrapped.name).toBe('passThrough');
      expect(wrapped.length).toBe(1);
      expect(calculator.add.name).toBe('add');
      expect(calculator.countTo.name).toBe('countTo');
      // Its own keys, plus the interceptor that measures it where Nest dispatches it.
      expect([...Reflect.getOwnMetadataKeys(wrapped)].sort()).toEqual(
        [
          CUSTOM_METADATA_KEY,
          COUNTED_METADATA,
          TIMED_METADATA,
          INTERCEPTORS_METADATA,
        ].sort(),
      );
      expect(Reflect.getMetadata(CUSTOM_METADATA_KEY, wrapped)).toBe(
        'custom-value',
      );
    });

    it('leaves undecorated methods alone', async () => {
      expect(calculator.plain).toBe(CalculatorService.prototype.plain);
      expect(calculator.plain()).toBe('plain');
      expect(find(await samplesOf(app), CALLS, { method: 'plain' })).toEqual(
        [],
      );
    });
  });

  describe('class-level decorators', () => {
    const inv = (method: string, result = 'success', exception = 'none') => ({
      class: 'InventoryService',
      method,
      result,
      exception,
    });

    it('apply to every method, with the static labels of their options', async () => {
      expect(inventory.reserve('apple')).toBe(0);
      expect(() => inventory.reserve('apple')).toThrow('apple');

      const s = await samplesOf(app);
      expect(
        find(s, 'inventory_duration_seconds_count', { method: 'reserve' }).sort(
          (a, b) => a.labels.result.localeCompare(b.labels.result),
        ),
      ).toEqual([
        {
          name: 'inventory_duration_seconds_count',
          labels: {
            ...inv('reserve', 'failure', 'OutOfStockError'),
            component: 'inventory',
            tier: 'core',
          },
          value: 1,
        },
        {
          name: 'inventory_duration_seconds_count',
          labels: { ...inv('reserve'), component: 'inventory', tier: 'core' },
          value: 1,
        },
      ]);
      // failuresOnly: the success is not counted, the failure is.
      expect(find(s, 'inventory_failures_total')).toEqual([
        {
          name: 'inventory_failures_total',
          labels: {
            ...inv('reserve', 'failure', 'OutOfStockError'),
            component: 'inventory',
          },
          value: 1,
        },
      ]);
    });

    it('failuresOnly counts nothing while every call succeeds', async () => {
      await inventory.restock('apple', 1);
      expect(inventory.reserve('apple')).toBe(1);
      const s = await samplesOf(app);
      expect(find(s, 'inventory_failures_total')).toEqual([]);
      expect(sum(s, 'inventory_duration_seconds_count')).toBe(2);
    });

    it('are overridden by the method-level decorators', async () => {
      expect(inventory.audit()).toBe(1);
      expect(inventory.audit()).toBe(1);

      const s = await samplesOf(app);
      expect(
        find(s, 'inventory_duration_seconds_count', { method: 'audit' }),
      ).toEqual([]);
      expect(find(s, 'inventory_failures_total', { method: 'audit' })).toEqual(
        [],
      );
      // The method's own options apply: its name, its buckets, no static labels, not failuresOnly.
      expect(find(s, 'inventory_audits_total')).toEqual([
        { name: 'inventory_audits_total', labels: inv('audit'), value: 2 },
      ]);
      expect(
        find(s, 'inventory_audit_seconds_bucket').map((b) => b.labels.le),
      ).toEqual(['1', '2', '+Inf']);
      expect(sum(s, 'inventory_audit_seconds_count', inv('audit'))).toBe(2);
    });

    it('use the help text of their options, or a default one', async () => {
      calculator.add(1, 1);
      inventory.audit();
      const { text } = await request(app.getHttpServer())
        .get('/metrics')
        .expect(200);
      expect(text).toContain(
        '# HELP inventory_duration_seconds Inventory operations.\n# TYPE inventory_duration_seconds histogram',
      );
      expect(text).toContain(
        '# HELP inventory_failures_total Failed inventory operations.\n# TYPE inventory_failures_total counter',
      );
      expect(text).toContain('# HELP inventory_audit_seconds Audits.');
      expect(text).toContain(
        `# HELP ${DURATION} Duration of decorated method calls, in seconds.\n# TYPE ${DURATION} histogram`,
      );
      expect(text).toContain(
        `# HELP ${CALLS} Calls of decorated methods.\n# TYPE ${CALLS} counter`,
      );
    });
  });

  it('uses the module buckets when @Timed gives none', async () => {
    calculator.add(1, 1);
    const s = await samplesOf(app);
    expect(
      find(s, `${DURATION}_bucket`, calc('add')).map((b) => b.labels.le),
    ).toEqual([
      '0.005',
      '0.01',
      '0.025',
      '0.05',
      '0.075',
      '0.1',
      '0.25',
      '0.5',
      '0.75',
      '1',
      '2.5',
      '5',
      '7.5',
      '10',
      '+Inf',
    ]);
  });
});

describe('static labels of @Timed and @Counted on the same method', () => {
  let app: INestApplication | undefined;

  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  it('go to their own metric only', async () => {
    app = await createApp({
      imports: [MetricsModule.forRoot({ defaultMetrics: false })],
      providers: [NotificationService],
    });
    const notifications = app.get(NotificationService);
    expect(notifications.ping()).toBe('pong');
    expect(notifications.notify()).toBe(true);

    const s = await samplesOf(app);
    const base = {
      class: 'NotificationService',
      method: 'notify',
      result: 'success',
      exception: 'none',
    };
    expect(find(s, 'notify_duration_seconds_count')).toEqual([
      {
        name: 'notify_duration_seconds_count',
        labels: { ...base, channel: 'email' },
        value: 1,
      },
    ]);
    expect(find(s, 'notify_total')).toEqual([
      { name: 'notify_total', labels: { ...base, priority: 'high' }, value: 1 },
    ]);
    expect(find(s, CALLS)).toEqual([
      {
        name: CALLS,
        labels: { ...base, method: 'ping' },
        value: 1,
      },
    ]);
  });
});

describe('providers registered under a token', () => {
  let app: INestApplication | undefined;

  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  it.each([
    [
      'useFactory',
      { provide: 'REPORTS', useFactory: () => new ReportService() },
    ],
    ['useValue', { provide: 'REPORTS', useValue: new ReportService() }],
    ['useClass', { provide: 'REPORTS', useClass: ReportService }],
  ])(
    'are measured with their class-level decorators and class name (%s)',
    async (_kind, provider) => {
      app = await createApp({
        imports: [MetricsModule.forRoot({ defaultMetrics: false })],
        providers: [provider],
      });
      expect(app.get<ReportService>('REPORTS').render()).toBe('report');

      expect(find(await samplesOf(app), 'report_calls_total')).toEqual([
        {
          name: 'report_calls_total',
          labels: {
            class: 'ReportService',
            method: 'render',
            result: 'success',
            exception: 'none',
          },
          value: 1,
        },
      ]);
    },
  );
});

describe('@Timed and @Counted on controllers', () => {
  let app: INestApplication;

  const order = (method: string, result = 'success', exception = 'none') => ({
    class: 'OrdersController',
    method,
    result,
    exception,
  });

  beforeEach(async () => {
    app = await createApp({
      imports: [MetricsModule.forRoot({ defaultMetrics: false })],
      controllers: [OrdersController, ReportsController],
      providers: [ApiKeyGuard],
    });
  });

  afterEach(async () => {
    await app.close();
  });

  it('still enforce the guard; rejected requests never reach the method', async () => {
    const server = app.getHttpServer();
    await request(server).get('/orders/7').expect(401);
    await request(server)
      .get('/orders/7')
      .set('x-api-key', 'wrong')
      .expect(401);
    const ok = await request(server)
      .get('/orders/7')
      .set('x-api-key', 'secret')
      .expect(200);
    // The method ran with its own `this` and its ParseIntPipe.
    expect(ok.body).toEqual({ id: 7, ref: 'order-7' });

    const s = await scrape(app);
    expect(find(s, CALLS, { method: 'get' })).toEqual([
      { name: CALLS, labels: order('get'), value: 1 },
    ]);
    expect(find(s, `${DURATION}_count`, { method: 'get' })).toEqual([
      { name: `${DURATION}_count`, labels: order('get'), value: 1 },
    ]);
    expect(sum(s, `${DURATION}_sum`, order('get'))).toBeGreaterThan(0);
  });

  it('still enforce the ValidationPipe', async () => {
    const server = app.getHttpServer();
    const rejected = await request(server)
      .post('/orders')
      .send({ item: 'pen', quantity: 0 })
      .expect(400);
    expect(rejected.body.message).toEqual(['quantity must not be less than 1']);
    await request(server).post('/orders').send({ quantity: 'two' }).expect(400);
    const created = await request(server)
      .post('/orders')
      .send({ item: 'pen', quantity: 2 })
      .expect(201);
    expect(created.body).toEqual({
      item: 'pen',
      quantity: 2,
      ref: 'order-new',
    });

    const s = await scrape(app);
    expect(sum(s, CALLS, order('create'))).toBe(1);
    expect(sum(s, `${DURATION}_count`, order('create'))).toBe(1);
    expect(sum(s, `${DURATION}_sum`, order('create'))).toBeGreaterThan(0.004);
    // Pipes run inside the measured handler call, so a rejected body counts
    // as a failure of the method, labelled with the pipe's exception.
    expect(
      sum(s, CALLS, order('create', 'failure', 'BadRequestException')),
    ).toBe(2);
  });

  it('record an async exception as a failure with its class name', async () => {
    await request(app.getHttpServer()).get('/orders/missing').expect(404);

    const s = await scrape(app);
    expect(find(s, CALLS, { method: 'missing' })).toEqual([
      {
        name: CALLS,
        labels: order('missing', 'failure', 'NotFoundException'),
        value: 1,
      },
    ]);
    expect(
      sum(
        s,
        `${DURATION}_count`,
        order('missing', 'failure', 'NotFoundException'),
      ),
    ).toBe(1);
  });

  it('time an Observable handler to completion', async () => {
    const response = await request(app.getHttpServer())
      .get('/orders/stream/3')
      .expect(200);
    expect(response.body).toEqual([0, 1, 2]);

    const s = await scrape(app);
    expect(find(s, CALLS, { method: 'stream' })).toEqual([
      { name: CALLS, labels: order('stream'), value: 1 },
    ]);
    expect(sum(s, `${DURATION}_sum`, order('stream'))).toBeGreaterThanOrEqual(
      0.015,
    );
  });

  it('apply at class level, and a method-level @Timed overrides it', async () => {
    const server = app.getHttpServer();
    await request(server).get('/reports').expect(200, ['daily']);
    await request(server).get('/reports').expect(200);
    await request(server).get('/reports/weekly').expect(200, 'weekly');

    const s = await scrape(app);
    expect(find(s, 'reports_duration_seconds_count')).toEqual([
      {
        name: 'reports_duration_seconds_count',
        labels: {
          class: 'ReportsController',
          method: 'list',
          result: 'success',
          exception: 'none',
          area: 'reports',
        },
        value: 2,
      },
    ]);
    expect(find(s, 'weekly_report_seconds_count')).toEqual([
      {
        name: 'weekly_report_seconds_count',
        labels: {
          class: 'ReportsController',
          method: 'weekly',
          result: 'success',
          exception: 'none',
        },
        value: 1,
      },
    ]);
  });

  it('leave the handler, its name and its route metadata unchanged', () => {
    const controller = app.get(OrdersController);
    expect(controller.get.name).toBe('get');
    expect(controller.create.name).toBe('create');
    expect(Reflect.getMetadata(PATH_METADATA, controller.get)).toBe(':id');
    expect(Reflect.getMetadata(METHOD_METADATA, controller.create)).toBe(
      Reflect.getMetadata(METHOD_METADATA, OrdersController.prototype.create),
    );
    expect(Reflect.getMetadata(GUARDS_METADATA, controller.get)).toEqual([
      ApiKeyGuard,
    ]);
    expect(Reflect.getMetadata(TIMED_METADATA, controller.get)).toEqual({
      name: undefined,
      options: {},
    });
  });
});

describe('@Counted on an inherited route and on a method that is not a route', () => {
  it('labels each controller with its own class and counts helper calls too', async () => {
    const app = await createApp({
      imports: [MetricsModule.forRoot({ defaultMetrics: false })],
      controllers: [UsersListingController, TeamsListingController],
    });
    try {
      const server = app.getHttpServer();
      await request(server).get('/users').expect(200, 'UsersListingController');
      await request(server).get('/users').expect(200);
      await request(server).get('/teams').expect(200, 'TeamsListingController');

      const samples = await samplesOf(app);
      expect(
        sum(samples, 'listings_total', { class: 'UsersListingController' }),
      ).toBe(2);
      expect(
        sum(samples, 'listings_total', { class: 'TeamsListingController' }),
      ).toBe(1);
      expect(
        sum(samples, 'listing_descriptions_total', {
          class: 'UsersListingController',
          method: 'describe',
        }),
      ).toBe(2);
      expect(
        sum(samples, 'listing_descriptions_total', {
          class: 'TeamsListingController',
        }),
      ).toBe(1);
    } finally {
      await app.close();
    }
  });
});

describe('invalid decorator names', () => {
  async function expectStartupFailure(
    metadata: ModuleMetadata,
    ...fragments: string[]
  ): Promise<void> {
    // Controller decorators are checked while Nest instantiates the module, provider decorators
    // when the app initialises: either way the app never starts.
    let failure: unknown;
    let app: INestApplication | undefined;
    try {
      const moduleRef = await Test.createTestingModule({
        imports: [MetricsModule.forRoot({ defaultMetrics: false })],
        ...metadata,
      }).compile();
      app = moduleRef.createNestApplication({ logger: false });
      await app.init();
    } catch (error) {
      failure = error;
    } finally {
      await app?.close();
    }
    expect(failure).toBeInstanceOf(Error);
    for (const fragment of fragments) {
      expect((failure as Error).message).toContain(fragment);
    }
  }

  it('fail start-up naming the provider class and method', async () => {
    await expectStartupFailure(
      { providers: [BadTimedNameService] },
      '@Timed() on BadTimedNameService.run()',
      '"checkout-duration" is not a valid Prometheus metric name',
    );
  });

  it('fail start-up naming the controller class and method', async () => {
    await expectStartupFailure(
      { controllers: [BadCountedNameController] },
      '@Counted() on BadCountedNameController.hit()',
      '"9lives_total" is not a valid Prometheus metric name',
    );
  });

  it('fail start-up on an invalid static label name', async () => {
    await expectStartupFailure(
      { providers: [BadLabelService] },
      '@Timed() on BadLabelService.work()',
      'label "bad-label" of metric "good_name_seconds"',
    );
  });

  it('fail start-up when given at class level', async () => {
    await expectStartupFailure(
      { providers: [BadClassLevelService] },
      '@Counted() on BadClassLevelService.first()',
      '"class level" is not a valid Prometheus metric name',
    );
  });
});
