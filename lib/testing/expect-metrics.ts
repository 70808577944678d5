import {
  escapeLabelValue,
  formatValue,
  parseExposition,
  type ExpositionFamily,
  type ExpositionSample,
} from './exposition-text.js';
import { registryOf, type RegistrySource } from './registry-of.js';

/**
 * Compares the registry's exposition with `expectedText` (text format), family by family, after
 * normalising the order of families, samples and labels and the spelling of numbers. Only the
 * families named in `names` are compared, or, without `names`, those `expectedText` has. Throws
 * an error with a line diff (`-` expected, `+` actual) when they differ.
 */
export async function expectMetrics(
  source: RegistrySource,
  expectedText: string,
  names?: readonly string[],
): Promise<void> {
  const expected = parseExposition(expectedText);
  const wanted = new Set(names ?? expected.map((family) => family.name));
  const actual = parseExposition(await registryOf(source).metrics());
  const expectedLines = normalise(expected, wanted);
  const actualLines = normalise(actual, wanted);
  if (expectedLines.join('\n') === actualLines.join('\n')) return;
  throw new Error(
    `expectMetrics: the metrics ${[...wanted].sort().join(', ')} differ from the expected text (- expected, + actual):\n${lineDiff(expectedLines, actualLines)}`,
  );
}

/** The families of `wanted`, sorted by name, each as HELP, TYPE and its samples in a fixed order. */
export function normalise(
  families: readonly ExpositionFamily[],
  wanted: ReadonlySet<string>,
): string[] {
  const lines: string[] = [];
  for (const family of [...families]
    .filter(({ name }) => wanted.has(name))
    .sort((a, b) => compare(a.name, b.name))) {
    if (family.help !== undefined)
      lines.push(
        `# HELP ${family.name} ${family.help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}`,
      );
    lines.push(`# TYPE ${family.name} ${family.type}`);
    const samples = family.samples.map((sample) => ({
      line: sampleLine(family, sample),
      key: sortKey(family, sample),
    }));
    samples.sort((a, b) => compareKeys(a.key, b.key));
    for (const { line } of samples) lines.push(line);
  }
  return lines;
}

function sampleLine(
  family: ExpositionFamily,
  sample: ExpositionSample,
): string {
  const labels = [...sample.labels]
    .map(([name, value]): [string, string] => [
      name,
      isBound(family, name) ? formatValue(boundValue(value)) : value,
    ])
    .sort(([a], [b]) => compare(a, b));
  const text =
    labels.length === 0
      ? ''
      : `{${labels.map(([name, value]) => `${name}="${escapeLabelValue(value)}"`).join(',')}}`;
  return `${sample.name}${text} ${formatValue(sample.value)}${sample.timestamp === undefined ? '' : ` ${sample.timestamp}`}`;
}

/** Label set (without `le`/`quantile`), then bucket < sum < count, then `le`/`quantile` by value. */
function sortKey(
  family: ExpositionFamily,
  sample: ExpositionSample,
): Array<string | number> {
  const bound = sample.labels.find(([name]) => isBound(family, name));
  const own = sample.labels
    .filter((label) => label !== bound)
    .sort(([a], [b]) => compare(a, b));
  const suffix = sample.name.slice(family.name.length);
  const rank = ['', '_bucket', '_sum', '_count'].indexOf(suffix);
  return [
    JSON.stringify(own),
    rank === -1 ? 4 : rank,
    bound ? boundValue(bound[1]) : 0,
    sample.name,
  ];
}

/** `le` of a histogram, `quantile` of a summary: numbers written as label values. */
function isBound(family: ExpositionFamily, label: string): boolean {
  return (
    (family.type === 'histogram' && label === 'le') ||
    (family.type === 'summary' && label === 'quantile')
  );
}

function boundValue(text: string): number {
  return /^\+?inf$/i.test(text) ? Infinity : Number(text);
}

function compareKeys(
  a: ReadonlyArray<string | number>,
  b: ReadonlyArray<string | number>,
): number {
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (x === y) continue;
    if (typeof x === 'number' && typeof y === 'number') return x - y;
    return compare(String(x), String(y));
  }
  return 0;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * A unified-style diff of two line lists (longest common subsequence): unchanged lines start with
 * two spaces, lines only expected with `- `, lines only in the actual text with `+ `. Runs of more
 * than three unchanged lines are shortened to `  …`.
 */
export function lineDiff(
  expected: readonly string[],
  actual: readonly string[],
): string {
  const n = expected.length;
  const m = actual.length;
  const common: number[][] = Array.from({ length: n + 1 }, () =>
    new Array<number>(m + 1).fill(0),
  );
  for (let i = n - 1; i >= 0; i--)
    for (let j = m - 1; j >= 0; j--)
      common[i]![j] =
        expected[i] === actual[j]
          ? common[i + 1]![j + 1]! + 1
          : Math.max(common[i + 1]![j]!, common[i]![j + 1]!);
  const out: Array<{ mark: ' ' | '-' | '+'; line: string }> = [];
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && expected[i] === actual[j]) {
      out.push({ mark: ' ', line: expected[i]! });
      i++;
      j++;
    } else if (j < m && (i === n || common[i]![j + 1]! > common[i + 1]![j]!)) {
      out.push({ mark: '+', line: actual[j]! });
      j++;
    } else {
      out.push({ mark: '-', line: expected[i]! });
      i++;
    }
  }
  const shown: string[] = [];
  for (let k = 0; k < out.length; k++) {
    const near = out
      .slice(Math.max(0, k - 3), k + 4)
      .some(({ mark }) => mark !== ' ');
    if (out[k]!.mark !== ' ' || near)
      shown.push(`${out[k]!.mark} ${out[k]!.line}`);
    else if (shown[shown.length - 1] !== '  …') shown.push('  …');
  }
  return shown.join('\n');
}
