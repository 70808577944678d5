import { currentHandler, NO_HANDLER } from './handler-context.js';

type LabelValues = Record<string, string | number | undefined>;
type Method = (...args: unknown[]) => unknown;

/** The methods that record (the others, `startTimer` and `setToCurrentTime`, record through them). */
const RECORDING_METHODS = ['inc', 'dec', 'set', 'observe', 'zero'] as const;

/**
 * Makes every observation of `metric` carry the `transport` and `route` of the handler in
 * progress (`none` outside any handler), unless the call gives them itself. `labelNames` are the
 * metric's own label names, without those two, in order (for `labels()` given positional values).
 * Applied over the cardinality guard's methods, so the guard sees the complete label set.
 */
export function withHandlerLabels<M extends object>(
  metric: M,
  labelNames: readonly string[],
  exemplars: boolean,
): M {
  const target = metric as unknown as Record<string, Method>;
  const labelled = (labels: unknown): LabelValues => {
    const handler = currentHandler();
    return {
      transport: handler?.transport ?? NO_HANDLER,
      route: handler?.route ?? NO_HANDLER,
      ...(labels as LabelValues | undefined),
    };
  };
  for (const name of RECORDING_METHODS) {
    const original = target[name];
    if (typeof original !== 'function') continue;
    const exemplarForm = exemplars && (name === 'inc' || name === 'observe');
    target[name] = (...args: unknown[]) => {
      const first = args[0];
      const isObject = first !== null && typeof first === 'object';
      if (exemplarForm) {
        return original.call(
          target,
          isObject
            ? {
                ...first,
                labels: labelled((first as { labels?: unknown }).labels),
              }
            : { value: first, labels: labelled(undefined) },
        );
      }
      return isObject
        ? original.call(target, labelled(first), ...args.slice(1))
        : original.call(target, labelled(undefined), ...args);
    };
  }
  // Children bind the handler of the moment they are made.
  const labels = target.labels;
  target.labels = (...args: unknown[]) => {
    const first = args[0];
    const given: LabelValues =
      first !== null && typeof first === 'object'
        ? (first as LabelValues)
        : Object.fromEntries(
            labelNames.map((label, i) => [label, args[i] as string]),
          );
    return labels.call(target, labelled(given));
  };
  return metric;
}
