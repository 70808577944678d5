import { metricShapeOf } from '../compat/prom-client.js';
import { OVERFLOW_LABEL_VALUE } from '../metrics.constants.js';
import { SeriesLimit } from './series-limit.js';

type LabelValues = Record<string, string | number | undefined>;
type Method = (...args: unknown[]) => unknown;

/** prom-client methods that take a label set as their first argument, by metric type. */
const LABELLED_METHODS: Readonly<Record<string, readonly string[]>> = {
  counter: ['inc'],
  gauge: ['inc', 'dec', 'set'],
  histogram: ['observe', 'zero'],
  summary: ['observe'],
};

/** Methods that take an exemplar object `{ labels, value, exemplarLabels }` when exemplars are on. */
const EXEMPLAR_METHODS = new Set(['inc', 'observe']);

/**
 * Bounds the label sets of a prom-client metric to `max`: a new label set beyond it is recorded in
 * one series whose label values all read `OVERFLOW`, and one warning names the metric. Every
 * label-taking method is guarded on the instance (`inc`, `dec`, `set`, `observe`, `zero`,
 * `labels`; `startTimer` and `setToCurrentTime` record through them), so prom-client's API is
 * unchanged. Known label sets cost one lookup; `remove()` and `reset()` give their slots back.
 */
export function limitLabelSets<M extends object>(metric: M, max: number): M {
  const shape = metricShapeOf(metric);
  if (shape === undefined) return metric;
  const target = metric as unknown as Record<string, Method>;
  const labelNames = shape.labelNames;
  const methods = LABELLED_METHODS[shape.type];
  if (labelNames.length === 0 || methods === undefined) return metric;

  const limit = new SeriesLimit([shape.name], max);
  const seen = new Set<string>();
  const overflow: LabelValues = Object.fromEntries(
    labelNames.map((name) => [name, OVERFLOW_LABEL_VALUE]),
  );
  const keyOfValues = (labels: LabelValues): string =>
    labelNames
      .map((name) => (labels[name] === undefined ? '\u0001' : labels[name]))
      .join('\u0000');
  // A frozen label set cannot change, so its key is computed once (@Timed/@Counted pass theirs).
  const frozenKeys = new WeakMap<LabelValues, string>();
  const keyOf = (labels: LabelValues): string => {
    if (!Object.isFrozen(labels)) return keyOfValues(labels);
    let key = frozenKeys.get(labels);
    if (key === undefined) {
      key = keyOfValues(labels);
      frozenKeys.set(labels, key);
    }
    return key;
  };
  const overflowKey = keyOf(overflow);
  /** Whether the OVERFLOW series has been written: `zero()` must not wipe what it holds. */
  let overflowWritten = false;

  /** Calls `original` as is for a known label set, with `OVERFLOW` when the metric is full. */
  const guard =
    (
      name: string,
      original: Method,
      labelsOf: (args: unknown[]) => LabelValues | undefined,
      withLabels: (args: unknown[], labels: LabelValues) => unknown[],
    ): Method =>
    (...args) => {
      const labels = labelsOf(args);
      if (labels === undefined) return original.apply(target, args);
      const key = keyOf(labels);
      if (seen.has(key)) return original.apply(target, args);
      if (key === overflowKey || limit.full) {
        if (key !== overflowKey) limit.refuse();
        // A new label set zeroed beyond the limit: the OVERFLOW series exists, keep its values.
        if (name === 'zero' && overflowWritten) return undefined;
        overflowWritten = true;
        return original.apply(
          target,
          key === overflowKey ? args : withLabels(args, overflow),
        );
      }
      // Taken only once prom-client accepted the labels: a call that throws uses no slot.
      const result = original.apply(target, args);
      seen.add(key);
      limit.take();
      return result;
    };

  for (const name of methods) {
    const exemplarForm = shape.exemplars && EXEMPLAR_METHODS.has(name);
    target[name] = guard(
      name,
      target[name],
      exemplarForm
        ? (args) => objectOrUndefined((args[0] as { labels?: unknown })?.labels)
        : (args) => objectOrUndefined(args[0]),
      exemplarForm
        ? ([first, ...rest], labels) => [
            { ...(first as object), labels },
            ...rest,
          ]
        : ([, ...rest], labels) => [labels, ...rest],
    );
  }

  const labelsArgs = (args: unknown[]): LabelValues | undefined => {
    const first = objectOrUndefined(args[0]);
    if (first !== undefined) return first;
    if (args.length !== labelNames.length) return undefined; // prom-client throws
    return Object.fromEntries(
      labelNames.map((name, i) => [name, args[i]]),
    ) as LabelValues;
  };
  target.labels = guard(
    'labels',
    target.labels,
    labelsArgs,
    (_args, labels) => [labels],
  );

  const remove = target.remove;
  target.remove = (...args: unknown[]) => {
    const result = remove.apply(target, args);
    const labels = labelsArgs(args);
    if (labels !== undefined && seen.delete(keyOf(labels))) limit.release();
    return result;
  };

  // A summary's reset() zeroes its series but keeps them; the others drop them.
  if (shape.type !== 'summary') {
    const reset = target.reset;
    target.reset = (...args: unknown[]) => {
      const result = reset.apply(target, args);
      seen.clear();
      limit.clear();
      return result;
    };
  }
  return metric;
}

function objectOrUndefined(value: unknown): LabelValues | undefined {
  return value !== null && typeof value === 'object'
    ? (value as LabelValues)
    : undefined;
}
