import { parseExposition, type ExpositionFamily } from './exposition-text.js';

/** One problem `lintMetrics` found: the family's name and what is wrong with it. */
export interface LintProblem {
  readonly metric: string;
  readonly text: string;
}

/**
 * Lints an exposition in the Prometheus text format with the rules of `promtool check metrics`
 * (client_golang's `promlint`): help text, base units, `_total` on counters and only on them,
 * the names and labels histograms and summaries reserve, the type in the name, `:` in names,
 * camelCase metric and label names, abbreviated units. The problems come sorted by metric name,
 * then text, as promtool prints them (`metric text`, one a line). An unparsable exposition throws
 * `ExpositionSyntaxError`, as promtool fails with "text format parsing error".
 */
export function lintMetrics(text: string): LintProblem[] {
  const problems: LintProblem[] = [];
  for (const family of parseExposition(text))
    for (const rule of RULES)
      for (const problem of rule(family))
        problems.push({ metric: family.name, text: problem });
  return problems.sort((a, b) =>
    a.metric === b.metric
      ? compare(a.text, b.text)
      : compare(a.metric, b.metric),
  );
}

/** The problems as promtool prints them, `metric text` one a line ('' when there is none). */
export function formatLintProblems(problems: readonly LintProblem[]): string {
  return problems.map(({ metric, text }) => `${metric} ${text}\n`).join('');
}

/** Byte order, as Go's string comparison. */
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

type Rule = (family: ExpositionFamily) => string[];

const RULES: readonly Rule[] = [
  (family) => (family.help === undefined ? ['no help text'] : []),
  (family) => {
    const unit = metricUnit(family.name);
    return unit && unit.unit !== unit.base
      ? [`use base unit "${unit.base}" instead of "${unit.unit}"`]
      : [];
  },
  ({ name, type }) => {
    const total = name.endsWith('_total');
    if (type === 'counter' && !total)
      return ['counter metrics should have "_total" suffix'];
    if (type !== 'untyped' && type !== 'counter' && total)
      return ['non-counter metrics should not have "_total" suffix'];
    return [];
  },
  (family) => {
    const { name, type } = family;
    if (type === 'untyped') return [];
    const histogram = type === 'histogram';
    const summary = type === 'summary';
    const problems: string[] = [];
    if (!histogram && name.endsWith('_bucket'))
      problems.push('non-histogram metrics should not have "_bucket" suffix');
    if (!histogram && !summary && name.endsWith('_count'))
      problems.push(
        'non-histogram and non-summary metrics should not have "_count" suffix',
      );
    if (!histogram && !summary && name.endsWith('_sum'))
      problems.push(
        'non-histogram and non-summary metrics should not have "_sum" suffix',
      );
    for (const labels of metricLabels(family))
      for (const label of labels) {
        if (!histogram && label === 'le')
          problems.push('non-histogram metrics should not have "le" label');
        if (!summary && label === 'quantile')
          problems.push('non-summary metrics should not have "quantile" label');
      }
    return problems;
  },
  ({ name }) => {
    const lower = name.toLowerCase();
    return TYPE_NAMES.filter(
      (type) => lower.includes(`_${type}_`) || lower.endsWith(`_${type}`),
    ).map((type) => `metric name should not include type '${type}'`);
  },
  ({ name }) =>
    name.includes(':') ? ["metric names should not contain ':'"] : [],
  (family) => {
    const problems = CAMEL_CASE.test(family.name)
      ? ["metric names should be written in 'snake_case' not 'camelCase'"]
      : [];
    for (const labels of metricLabels(family))
      for (const label of labels)
        if (CAMEL_CASE.test(label))
          problems.push(
            "label names should be written in 'snake_case' not 'camelCase'",
          );
    return problems;
  },
  ({ name }) => {
    const lower = name.toLowerCase();
    return UNIT_ABBREVIATIONS.filter(
      (unit) => lower.includes(`_${unit}_`) || lower.endsWith(`_${unit}`),
    ).map(() => 'metric names should not contain abbreviated units');
  },
];

const CAMEL_CASE = /[a-z][A-Z]/;

/** The metric types promlint looks for in a name (every type but untyped). */
const TYPE_NAMES = [
  'counter',
  'gauge',
  'summary',
  'histogram',
  'gauge_histogram',
];

/**
 * The label names of each metric of a family, as Prometheus' parser builds them: one metric per
 * label set, `le` of a histogram's buckets and `quantile` of a summary's quantiles taken out.
 */
function metricLabels(family: ExpositionFamily): string[][] {
  const byKey = new Map<string, string[]>();
  for (const sample of family.samples) {
    const own = sample.labels.filter(
      ([label]) =>
        !(
          (family.type === 'histogram' &&
            label === 'le' &&
            sample.name === `${family.name}_bucket`) ||
          (family.type === 'summary' &&
            label === 'quantile' &&
            sample.name === family.name)
        ),
    );
    const key = JSON.stringify([...own].sort());
    if (!byKey.has(key))
      byKey.set(
        key,
        own.map(([label]) => label),
      );
  }
  return [...byKey.values()];
}

const UNITS: Readonly<Record<string, string>> = {
  amperes: 'amperes',
  bytes: 'bytes',
  celsius: 'celsius',
  grams: 'grams',
  joules: 'joules',
  kelvin: 'kelvin',
  meters: 'meters',
  metres: 'metres',
  seconds: 'seconds',
  volts: 'volts',
  minutes: 'seconds',
  hours: 'seconds',
  days: 'seconds',
  weeks: 'seconds',
  kelvins: 'kelvin',
  fahrenheit: 'celsius',
  rankine: 'celsius',
  inches: 'meters',
  yards: 'meters',
  miles: 'meters',
  bits: 'bytes',
  calories: 'joules',
  pounds: 'grams',
  ounces: 'grams',
};

const UNIT_PREFIXES = [
  'pico',
  'nano',
  'micro',
  'milli',
  'centi',
  'deci',
  'deca',
  'hecto',
  'kilo',
  'kibi',
  'mega',
  'mibi',
  'giga',
  'gibi',
  'tera',
  'tebi',
  'peta',
  'pebi',
  '',
];

const UNIT_ABBREVIATIONS = [
  's',
  'ms',
  'us',
  'ns',
  'sec',
  'b',
  'kb',
  'mb',
  'gb',
  'tb',
  'pb',
  'm',
  'h',
  'd',
];

/**
 * The unit a name spells out as one of its `_`-separated words (`kilobytes`, `hours`), with its
 * base unit. (promlint takes the first match in a random order when a name holds two units.)
 */
function metricUnit(name: string): { unit: string; base: string } | undefined {
  const words = name.split('_');
  for (const [unit, base] of Object.entries(UNITS))
    for (const prefix of UNIT_PREFIXES)
      if (words.includes(prefix + unit)) return { unit: prefix + unit, base };
  return undefined;
}
