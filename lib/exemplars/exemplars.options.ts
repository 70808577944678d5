import { invalid, isLabelName } from '../options/option-checks.js';

/** `exemplars` as an object: the exemplar label names. */
export interface ExemplarsOptions {
  /** The label that carries the trace id. Default `trace_id`. */
  traceIdLabel?: string;
  /** The label that carries the span id. Default `span_id`. */
  spanIdLabel?: string;
}

/** `exemplars` after checks. */
export interface ResolvedExemplarsOptions {
  readonly traceIdLabel: string;
  readonly spanIdLabel: string;
}

/** OpenMetrics limits an exemplar's label names and values together to 128 characters. */
const EXEMPLAR_LABEL_CHARACTERS = 128;
/** A trace id (32 hex digits) and a span id (16). */
const ID_CHARACTERS = 32 + 16;

export function resolveExemplars(
  value: unknown,
): ResolvedExemplarsOptions | undefined {
  if (value === undefined || value === false) return undefined;
  if (value === true) return resolveExemplars({});
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw invalid(
      'exemplars',
      'true, false or { traceIdLabel?, spanIdLabel? }',
      value,
    );
  const {
    traceIdLabel = 'trace_id',
    spanIdLabel = 'span_id',
    ...rest
  } = value as ExemplarsOptions & Record<string, unknown>;
  const unknown = Object.keys(rest)[0];
  if (unknown !== undefined)
    throw invalid(
      `exemplars.${unknown}`,
      'left out (unknown key; known: traceIdLabel, spanIdLabel)',
      rest[unknown],
    );
  for (const [key, name] of [
    ['traceIdLabel', traceIdLabel],
    ['spanIdLabel', spanIdLabel],
  ] as const) {
    if (typeof name !== 'string' || !isLabelName(name))
      throw invalid(
        `exemplars.${key}`,
        'a label name ([a-zA-Z_][a-zA-Z0-9_]*, not starting with __)',
        name,
      );
  }
  if (traceIdLabel === spanIdLabel)
    throw invalid(
      'exemplars.spanIdLabel',
      `a label name other than traceIdLabel ("${traceIdLabel}")`,
      spanIdLabel,
    );
  if (
    traceIdLabel.length + spanIdLabel.length + ID_CHARACTERS >
    EXEMPLAR_LABEL_CHARACTERS
  )
    throw invalid(
      'exemplars',
      `label names of at most ${EXEMPLAR_LABEL_CHARACTERS - ID_CHARACTERS} characters together (an exemplar's labels are limited to ${EXEMPLAR_LABEL_CHARACTERS})`,
      `${traceIdLabel}, ${spanIdLabel}`,
    );
  return { traceIdLabel, spanIdLabel };
}
