import { Logger } from '@nestjs/common';
import { CaptureLogger } from '../../test/helpers/capture-logger.js';
import { SeriesStore, type RouteSeries } from './series-store.js';
import type { ErrorType, RequestRecord } from './request-record.js';

const FAMILIES = { status: ['requests_total'], error: ['errors_total'] };

function record(
  status: string,
  overrides: Partial<RequestRecord> = {},
): RequestRecord {
  return {
    status,
    durationSeconds: 0.01,
    requestBytes: 0,
    responseBytes: 0,
    errorType: undefined,
    ...overrides,
  };
}

/** Every status series as `transport method route status count`. */
function counts(store: SeriesStore): string[] {
  return store
    .allStatuses()
    .map(
      (s) =>
        `${s.labels.transport} ${s.labels.method} ${s.labels.route} ${s.labels.status} ${s.count}`,
    );
}

/** Every error count as `transport method route error_type count`. */
function errors(store: SeriesStore): string[] {
  return store
    .allRoutes()
    .flatMap((route) =>
      [...route.errors].map(
        ([type, n]) =>
          `${route.transport} ${route.method} ${route.route} ${type} ${n}`,
      ),
    );
}

describe('SeriesStore', () => {
  const logger = new CaptureLogger();
  const warnings = () => logger.messagesAt('warn');
  beforeAll(() => Logger.overrideLogger(logger));
  afterAll(() => Logger.overrideLogger(new Logger()));
  beforeEach(() => (logger.lines.length = 0));

  it('resolves one series per transport, method and route', () => {
    const store = new SeriesStore([1], 10, FAMILIES);
    const a = store.route('http', 'GET', '/a');
    expect(store.route('http', 'GET', '/a')).toBe(a);
    expect(store.route('http', 'POST', '/a')).not.toBe(a);
    expect(store.route('rpc', 'GET', '/a')).not.toBe(a);
    expect(a.overflow).toBe(false);
  });

  it('adds each record to the series of its route and status', () => {
    const store = new SeriesStore([0.1, 1], 10, FAMILIES);
    const route = store.route('http', 'GET', '/a');
    store.record(
      route,
      record('200', {
        durationSeconds: 0.1,
        requestBytes: 3,
        responseBytes: 5,
      }),
    );
    store.record(
      route,
      record('200', {
        durationSeconds: 0.5,
        requestBytes: 1,
        responseBytes: 2,
      }),
    );
    store.record(route, record('404', { durationSeconds: 7 }));
    expect(counts(store)).toEqual(['http GET /a 200 2', 'http GET /a 404 1']);
    const ok = route.statuses.get('200')!;
    expect(ok.requestBytes).toBe(4);
    expect(ok.responseBytes).toBe(7);
    expect(ok.durationSum).toBeCloseTo(0.6, 10);
    // A duration equal to a bound is in that bucket (`le`); the last slot is +Inf.
    expect([...ok.bucketCounts]).toEqual([1, 1, 0]);
    expect([...route.statuses.get('404')!.bucketCounts]).toEqual([0, 0, 1]);
  });

  it('counts errors by error_type, with or without a request', () => {
    const store = new SeriesStore([1], 10, FAMILIES);
    const route = store.route('queue', 'send', 'mail');
    store.record(route, record('failed', { errorType: 'internal' }));
    store.record(route, record('failed', { errorType: 'internal' }));
    store.recordError(route, 'stalled');
    expect(errors(store)).toEqual([
      'queue send mail internal 2',
      'queue send mail stalled 1',
    ]);
    expect(counts(store)).toEqual(['queue send mail failed 2']);
  });

  it('folds label sets beyond maxSeries into one OVERFLOW series per transport, warning once', () => {
    const store = new SeriesStore([1], 2, FAMILIES);
    const a = store.route('http', 'GET', '/a');
    store.record(a, record('200'));
    store.record(a, record('500'));
    store.record(a, record('404'));
    store.record(a, record('503'));
    const b = store.route('http', 'GET', '/b');
    const c = store.route('http', 'GET', '/c');
    expect(c).toBe(store.route('http', 'GET', '/d'));
    expect(c.overflow).toBe(true);
    store.record(b, record('200'));
    store.record(c, record('200'));
    const rpc = store.route('rpc', 'SEND', 'sum');
    store.record(rpc, record('OK'));
    expect(counts(store)).toEqual([
      'http GET /a 200 1',
      'http GET /a 500 1',
      'http OVERFLOW OVERFLOW OVERFLOW 4',
      'rpc OVERFLOW OVERFLOW OVERFLOW 1',
    ]);
    expect(warnings()).toHaveLength(1);
    expect(warnings()[0]).toContain(
      'metric "requests_total" reached 2 label sets (option "maxSeries")',
    );
  });

  it('gives GraphQL operation names, which clients choose, a budget of their own', () => {
    const store = new SeriesStore([1], 2, FAMILIES);
    for (const name of ['a1', 'a2', 'a3', 'a4']) {
      const operation = store.route('graphql', 'query', name);
      store.record(operation, record('ok'));
      store.recordError(operation, 'validation');
    }
    const users = store.route('http', 'GET', '/users/:id');
    store.record(users, record('200'));
    store.record(
      store.route('http', 'GET', '/orders'),
      record('500', { errorType: 'internal' }),
    );
    expect(counts(store)).toEqual([
      'graphql query a1 ok 1',
      'graphql query a2 ok 1',
      'http GET /users/:id 200 1',
      'http GET /orders 500 1',
      'graphql OVERFLOW OVERFLOW OVERFLOW 2',
    ]);
    expect(errors(store)).toEqual([
      'graphql query a1 validation 1',
      'graphql query a2 validation 1',
      'http GET /orders internal 1',
      'graphql OVERFLOW OVERFLOW validation 2',
    ]);
  });

  it('keeps error_type when errors_total overflows', () => {
    const store = new SeriesStore([1], 1, FAMILIES);
    const [a, overflowed] = [
      store.route('http', 'GET', '/a'),
      store.route('http', 'GET', '/b'),
    ];
    const types: ErrorType[] = ['internal', 'not_found', 'timeout'];
    for (const type of types) store.recordError(a, type);
    store.recordError(overflowed, 'forbidden');
    expect(errors(store)).toEqual([
      'http GET /a internal 1',
      'http OVERFLOW OVERFLOW not_found 1',
      'http OVERFLOW OVERFLOW timeout 1',
      'http OVERFLOW OVERFLOW forbidden 1',
    ]);
    expect(warnings().some((w) => w.includes('"errors_total"'))).toBe(true);
  });

  it('counts requests in flight per transport, declared ones at 0', () => {
    const store = new SeriesStore([1], 10, FAMILIES);
    store.declareTransport('ws');
    store.started('http');
    store.started('http');
    store.ended('http');
    store.declareTransport('http');
    expect([...store.inFlight]).toEqual([
      ['ws', 0],
      ['http', 1],
    ]);
  });

  it('clears every series in place and gives the label sets back', () => {
    const store = new SeriesStore([1], 1, FAMILIES);
    const route: RouteSeries = store.route('http', 'GET', '/a');
    store.record(route, record('500', { errorType: 'internal' }));
    store.clear();
    expect(counts(store)).toEqual([]);
    expect(errors(store)).toEqual([]);
    store.record(route, record('200'));
    expect(counts(store)).toEqual(['http GET /a 200 1']);
  });
});
