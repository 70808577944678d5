import { types } from 'node:util';
import { isObservable, Observable } from 'rxjs';
import type { Counter, Histogram } from 'prom-client';
import type { TraceExemplars } from './exemplars/trace-exemplars.js';

/** prom-client keeps no exemplar for empty exemplar labels. */
const NO_EXEMPLAR: Readonly<Record<string, string>> = Object.freeze({});

/** Records the outcome of calls of one decorated method into its @Timed histogram and @Counted counter. */
export class MethodInstrument {
  /**
   * `labels` (class, method) go to both metrics; `histogramLabels` and `counterLabels` are the
   * static labels of @Timed and of @Counted, each for its own metric only.
   */
  constructor(
    private readonly labels: Record<string, string>,
    private readonly histogram: Histogram<string> | undefined,
    private readonly counter: Counter<string> | undefined,
    private readonly countFailuresOnly: boolean,
    private readonly histogramLabels: Record<string, string> = {},
    private readonly counterLabels: Record<string, string> = {},
    /** With `exemplars` on, for a histogram made with `enableExemplars`: the active span's ids. */
    private readonly exemplars: TraceExemplars | undefined = undefined,
  ) {}

  record(startedAt: number, failed: boolean, error: unknown): void {
    try {
      const labels = {
        ...this.labels,
        result: failed ? 'failure' : 'success',
        exception: failed ? exceptionName(error) : 'none',
      };
      const seconds = (performance.now() - startedAt) / 1000;
      if (this.exemplars === undefined) {
        this.histogram?.observe(
          { ...this.histogramLabels, ...labels },
          seconds,
        );
      } else {
        this.histogram?.observe({
          labels: { ...this.histogramLabels, ...labels },
          value: seconds,
          exemplarLabels: this.exemplars.current()?.labelSet ?? NO_EXEMPLAR,
        });
      }
      if (this.counter !== undefined && (failed || !this.countFailuresOnly))
        this.counter.inc({ ...this.counterLabels, ...labels });
    } catch {
      // A metric must never change what the method returns or throws.
    }
  }
}

/**
 * Calls `invoke` and records its outcome: sync results and throws at once, Promises at settlement
 * (the same Promise is returned), Observables from subscription to completion or error. Other
 * thenables (a Mongoose query, a knex builder) are returned untouched and recorded when the call
 * returns: calling their `then` would run them, and the caller's own `await` would run them again.
 */
export function measureCall(
  instrument: MethodInstrument,
  invoke: () => unknown,
): unknown {
  const startedAt = performance.now();
  let result: unknown;
  try {
    result = invoke();
  } catch (error) {
    instrument.record(startedAt, true, error);
    throw error;
  }
  if (isObservable(result)) return measureObservable(instrument, result);
  if (types.isPromise(result)) {
    result.then(
      () => instrument.record(startedAt, false, undefined),
      (error: unknown) => instrument.record(startedAt, true, error),
    );
    return result;
  }
  instrument.record(startedAt, false, undefined);
  return result;
}

export function measureObservable<T>(
  instrument: MethodInstrument,
  source: Observable<T>,
): Observable<T> {
  return new Observable<T>((subscriber) => {
    const startedAt = performance.now();
    return source.subscribe({
      next: (value) => subscriber.next(value),
      error: (error: unknown) => {
        instrument.record(startedAt, true, error);
        subscriber.error(error);
      },
      complete: () => {
        instrument.record(startedAt, false, undefined);
        subscriber.complete();
      },
    });
  });
}

function exceptionName(error: unknown): string {
  if (error instanceof Error)
    return error.constructor?.name || error.name || 'Error';
  if (error === null) return 'null';
  return typeof error;
}
