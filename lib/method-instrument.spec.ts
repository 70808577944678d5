import { Counter, Histogram, Registry } from 'prom-client';
import {
  lastValueFrom,
  of,
  Subject,
  throwError,
  toArray,
  type Observable,
} from 'rxjs';
import {
  measureCall,
  measureObservable,
  MethodInstrument,
} from './method-instrument.js';

const LABELS = ['class', 'method', 'result', 'exception'];

class DeclinedError extends Error {}

describe('MethodInstrument / measureCall', () => {
  let registry: Registry;
  let histogram: Histogram<string>;
  let counter: Counter<string>;

  const make = (failuresOnly = false) =>
    new MethodInstrument(
      { class: 'Svc', method: 'run' },
      histogram,
      counter,
      failuresOnly,
    );

  const series = (result: string, exception: string) => ({
    class: 'Svc',
    method: 'run',
    result,
    exception,
  });

  async function counts(): Promise<Record<string, number>> {
    const values = (await counter.get()).values;
    return Object.fromEntries(
      values.map((v) => [`${v.labels.result}/${v.labels.exception}`, v.value]),
    );
  }

  async function histogramCount(
    labels: Record<string, string>,
  ): Promise<number> {
    const { values } = await histogram.get();
    const match = values.find(
      (v) =>
        v.metricName === 'duration_seconds_count' &&
        Object.entries(labels).every(([k, l]) => v.labels[k] === l),
    );
    return match?.value ?? 0;
  }

  beforeEach(() => {
    registry = new Registry();
    histogram = new Histogram({
      name: 'duration_seconds',
      help: 'h',
      labelNames: [...LABELS, 'team'],
      buckets: [0.01, 1],
      registers: [registry],
    });
    counter = new Counter({
      name: 'calls_total',
      help: 'c',
      labelNames: [...LABELS, 'kind'],
      registers: [registry],
    });
  });

  it('records a sync return as a success and returns the value', async () => {
    const value = { a: 1 };
    expect(measureCall(make(), () => value)).toBe(value);
    expect(await counts()).toEqual({ 'success/none': 1 });
    expect(await histogramCount(series('success', 'none'))).toBe(1);
  });

  it('records a sync throw as a failure and rethrows the same error', async () => {
    const error = new DeclinedError('no');
    let caught: unknown;
    try {
      measureCall(make(), () => {
        throw error;
      });
    } catch (e) {
      caught = e;
    }
    expect(caught).toBe(error);
    expect(await counts()).toEqual({ 'failure/DeclinedError': 1 });
    expect(await histogramCount(series('failure', 'DeclinedError'))).toBe(1);
  });

  it.each([
    ['a string', 'string', 'oops'],
    ['null', 'null', null],
    ['undefined', 'undefined', undefined],
    ['a plain object', 'object', { code: 1 }],
    ['a TypeError', 'TypeError', new TypeError('t')],
  ])('labels a thrown %s as "%s"', async (_what, exception, thrown) => {
    expect(() =>
      measureCall(make(), () => {
        throw thrown;
      }),
    ).toThrow();
    expect(await counts()).toEqual({ [`failure/${exception}`]: 1 });
  });

  it('returns the same Promise and records at fulfilment', async () => {
    let resolve!: (value: string) => void;
    const promise = new Promise<string>((r) => (resolve = r));
    expect(measureCall(make(), () => promise)).toBe(promise);
    expect(await counts()).toEqual({});
    resolve('done');
    await expect(promise).resolves.toBe('done');
    expect(await counts()).toEqual({ 'success/none': 1 });
  });

  it('returns the same Promise and records at rejection', async () => {
    const error = new DeclinedError('later');
    let reject!: (reason: unknown) => void;
    const promise = new Promise<string>((_r, j) => (reject = j));
    expect(measureCall(make(), () => promise)).toBe(promise);
    reject(error);
    await expect(promise).rejects.toBe(error);
    expect(await counts()).toEqual({ 'failure/DeclinedError': 1 });
  });

  it('times an Observable from subscription to completion, not from the call', async () => {
    const source = new Subject<number>();
    const measured = measureCall(make(), () =>
      source.asObservable(),
    ) as Observable<number>;
    const values: number[] = [];
    const done = new Promise<void>((resolve) =>
      measured.subscribe({ next: (v) => values.push(v), complete: resolve }),
    );
    source.next(1);
    source.next(2);
    expect(await counts()).toEqual({});
    source.complete();
    await done;
    expect(values).toEqual([1, 2]);
    expect(await counts()).toEqual({ 'success/none': 1 });
  });

  it('starts timing an Observable at subscription', async () => {
    const measured = measureCall(make(), () => of('x')) as Observable<string>;
    await new Promise((resolve) => setTimeout(resolve, 200));
    const subscribedAt = performance.now();
    await lastValueFrom(measured);
    const sinceSubscription = (performance.now() - subscribedAt) / 1000;
    const { values } = await histogram.get();
    const seconds = values.find(
      (v) => v.metricName === 'duration_seconds_sum',
    )?.value;
    expect(seconds).toBeGreaterThanOrEqual(0);
    // Not the 200 ms before the subscription: at most the time since it.
    expect(seconds).toBeLessThanOrEqual(sinceSubscription);
  });

  it('records an Observable error as a failure and passes the same error on', async () => {
    const error = new DeclinedError('stream');
    const measured = measureObservable(
      make(),
      throwError(() => error),
    );
    await expect(lastValueFrom(measured)).rejects.toBe(error);
    expect(await counts()).toEqual({ 'failure/DeclinedError': 1 });
  });

  it('records nothing for an Observable that is never subscribed', async () => {
    measureCall(make(), () => of(1));
    expect(await counts()).toEqual({});
    expect(await histogramCount({})).toBe(0);
  });

  it('does not record an unsubscribed, unfinished Observable', async () => {
    const source = new Subject<number>();
    const subscription = measureObservable(make(), source).subscribe();
    subscription.unsubscribe();
    source.complete();
    expect(await counts()).toEqual({});
    expect(source.observed).toBe(false);
  });

  it('passes every value of an Observable through', async () => {
    expect(
      await lastValueFrom(
        measureObservable(make(), of(1, 2, 3)).pipe(toArray()),
      ),
    ).toEqual([1, 2, 3]);
  });

  it('with failuresOnly, counts failures only but still times every call', async () => {
    const instrument = make(true);
    measureCall(instrument, () => 1);
    expect(() =>
      measureCall(instrument, () => {
        throw new RangeError('r');
      }),
    ).toThrow(RangeError);
    expect(await counts()).toEqual({ 'failure/RangeError': 1 });
    expect(await histogramCount(series('success', 'none'))).toBe(1);
    expect(await histogramCount(series('failure', 'RangeError'))).toBe(1);
  });

  it('labels each exception type apart, however many types a method throws', async () => {
    const instrument = make();
    const types = Array.from({ length: 40 }, (_, i) => {
      const type = class extends Error {};
      Object.defineProperty(type, 'name', { value: `Failure${i}` });
      return type;
    });
    for (const type of [...types, ...types]) {
      expect(() =>
        measureCall(instrument, () => {
          throw new type('no');
        }),
      ).toThrow(type);
    }
    measureCall(instrument, () => 1);
    const expected = Object.fromEntries(
      types.map((type) => [`failure/${type.name}`, 2]),
    );
    expect(await counts()).toEqual({ ...expected, 'success/none': 1 });
    expect(await histogramCount(series('failure', 'Failure39'))).toBe(2);
  });

  it('adds the static labels of each metric to that metric only', async () => {
    const instrument = new MethodInstrument(
      { class: 'Svc', method: 'run' },
      histogram,
      counter,
      false,
      { team: 'payments' },
      { kind: 'batch' },
    );
    measureCall(instrument, () => 1);
    expect((await counter.get()).values).toEqual([
      { labels: { ...series('success', 'none'), kind: 'batch' }, value: 1 },
    ]);
    expect(
      await histogramCount({ ...series('success', 'none'), team: 'payments' }),
    ).toBe(1);
    const histogramLabels = (await histogram.get()).values.map((v) => v.labels);
    expect(histogramLabels.every((l) => !('kind' in l))).toBe(true);
  });

  it('never lets a recording failure change the outcome', async () => {
    let attempts = 0;
    histogram.observe = () => {
      attempts += 1;
      throw new Error('registry broke');
    };
    expect(measureCall(make(), () => 'fine')).toBe('fine');
    const error = new DeclinedError('mine');
    expect(() =>
      measureCall(make(), () => {
        throw error;
      }),
    ).toThrow(error);
    await expect(
      measureCall(make(), () => Promise.resolve('async fine')),
    ).resolves.toBe('async fine');
    expect(attempts).toBe(3);
  });

  it('measures elapsed seconds', async () => {
    const calledAt = performance.now();
    await measureCall(
      make(),
      () => new Promise((resolve) => setTimeout(resolve, 30)),
    );
    const seenByCaller = (performance.now() - calledAt) / 1000;
    const { values } = await histogram.get();
    const sum =
      values.find((v) => v.metricName === 'duration_seconds_sum')?.value ?? 0;
    expect(sum).toBeGreaterThanOrEqual(0.025);
    expect(sum).toBeLessThanOrEqual(seenByCaller);
    const inFirstBucket = values.find(
      (v) => v.metricName === 'duration_seconds_bucket' && v.labels.le === 0.01,
    )?.value;
    expect(inFirstBucket).toBe(0);
  });

  it('returns a lazy thenable untouched, so the caller runs it once, and records the call', async () => {
    // Like a Mongoose query or a knex builder: `then` runs the query, and a second run fails.
    let runs = 0;
    const query = {
      then(
        resolve: (rows: string) => unknown,
        reject: (error: unknown) => unknown,
      ) {
        runs += 1;
        return runs === 1
          ? Promise.resolve('rows').then(resolve, reject)
          : Promise.reject(new Error('Query was already executed')).then(
              resolve,
              reject,
            );
      },
    };
    const returned = measureCall(make(), () => query);
    expect(returned).toBe(query);
    expect(runs).toBe(0);
    await expect(returned as PromiseLike<string>).resolves.toBe('rows');
    expect(runs).toBe(1);
    expect(await counts()).toEqual({ 'success/none': 1 });
  });
});
