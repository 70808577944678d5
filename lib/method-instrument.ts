import { types } from 'node:util';
import { isObservable, Observable } from 'rxjs';
import type { Counter, Histogram } from 'prom-client';
import type { TraceExemplars } from './exemplars/trace-exemplars.js';

/** prom-client keeps no exemplar for empty exemplar labels. */
const NO_EXEMPLAR: Readonly<Record<string, string>> = Object.freeze({});
const NO_ARGS: unknown[] = [];

/** The label sets one outcome of a call writes, made once and frozen. */
interface OutcomeLabels {
  readonly histogram: Readonly<Record<string, string>>;
  readonly counter: Readonly<Record<string, string>>;
}

/** Failures keep their label sets by exception name up to this many; others are made per call. */
const MAX_CACHED_FAILURES = 32;

/** Records the outcome of calls of one decorated method into its @Timed histogram and @Counted counter. */
export class MethodInstrument {
  private readonly success: OutcomeLabels;
  private readonly failures = new Map<string, OutcomeLabels>();

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
  ) {
    this.success = this.outcome('success', 'none');
  }

  record(startedAt: number, failed: boolean, error: unknown): void {
    try {
      const seconds = (performance.now() - startedAt) / 1000;
      const labels = failed ? this.failure(exceptionName(error)) : this.success;
      if (this.histogram !== undefined) {
        if (this.exemplars === undefined) {
          this.histogram.observe(labels.histogram, seconds);
        } else {
          this.histogram.observe({
            labels: labels.histogram,
            value: seconds,
            exemplarLabels: this.exemplars.current()?.labelSet ?? NO_EXEMPLAR,
          });
        }
      }
      if (this.counter !== undefined && (failed || !this.countFailuresOnly))
        this.counter.inc(labels.counter);
    } catch {
      // A metric must never change what the method returns or throws.
    }
  }

  private failure(exception: string): OutcomeLabels {
    let labels = this.failures.get(exception);
    if (labels === undefined) {
      labels = this.outcome('failure', exception);
      if (this.failures.size < MAX_CACHED_FAILURES)
        this.failures.set(exception, labels);
    }
    return labels;
  }

  /** Frozen, so the series guard can remember each one's key (see `limitLabelSets`). */
  private outcome(result: string, exception: string): OutcomeLabels {
    const labels = { ...this.labels, result, exception };
    return {
      histogram: Object.freeze({ ...this.histogramLabels, ...labels }),
      counter: Object.freeze({ ...this.counterLabels, ...labels }),
    };
  }
}

/**
 * Calls `invoke` (on `thisArg` with `args`, when given) and records its outcome: sync results and
 * throws at once, Promises at settlement (the same Promise is returned), Observables from
 * subscription to completion or error. Other thenables (a Mongoose query, a knex builder) are
 * returned untouched and recorded when the call returns: calling their `then` would run them, and
 * the caller's own `await` would run them again.
 */
export function measureCall(
  instrument: MethodInstrument,
  invoke: (...args: unknown[]) => unknown,
  thisArg?: unknown,
  args?: unknown[],
): unknown {
  const startedAt = performance.now();
  let result: unknown;
  try {
    result = invoke.apply(thisArg, args ?? NO_ARGS);
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
