/** The metric types of the Prometheus text format. */
export type ExpositionType =
  'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped';

/** One sample line: `name{labels} value [timestamp]`. */
export interface ExpositionSample {
  readonly name: string;
  /** In the order the line gives them. */
  readonly labels: ReadonlyArray<readonly [string, string]>;
  readonly value: number;
  readonly timestamp?: string;
}

/** One family: its `# HELP`, `# TYPE` and the samples that belong to it. */
export interface ExpositionFamily {
  readonly name: string;
  readonly help: string | undefined;
  readonly type: ExpositionType;
  readonly samples: ExpositionSample[];
}

/** A line the text format does not allow; `line` counts from 1. */
export class ExpositionSyntaxError extends Error {
  constructor(
    readonly line: number,
    readonly reason: string,
  ) {
    super(`text format parsing error in line ${line}: ${reason}`);
    this.name = 'ExpositionSyntaxError';
  }
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*/;
const TYPES = new Set<string>([
  'counter',
  'gauge',
  'histogram',
  'summary',
  'untyped',
]);

/**
 * Parses the Prometheus text exposition format (version 0.0.4) into families, grouping
 * `_bucket`/`_sum`/`_count` samples under their histogram or summary the way Prometheus' own
 * parser does. Throws `ExpositionSyntaxError` on a malformed line.
 */
export function parseExposition(text: string): ExpositionFamily[] {
  const families: Array<{
    name: string;
    help: string | undefined;
    type: ExpositionType;
    typed: boolean;
    samples: ExpositionSample[];
  }> = [];
  const byName = new Map<string, (typeof families)[number]>();
  let current: (typeof families)[number] | undefined;
  const family = (name: string, line: number, started: boolean) => {
    let found = byName.get(name);
    if (found && found !== current && started)
      throw new ExpositionSyntaxError(
        line,
        `second HELP or TYPE line for metric name "${name}", or its samples are not together`,
      );
    if (!found) {
      found = {
        name,
        help: undefined,
        type: 'untyped',
        typed: false,
        samples: [],
      };
      families.push(found);
      byName.set(name, found);
    }
    current = found;
    return found;
  };
  const lines = text.split('\n');
  for (let index = 0; index < lines.length; index++) {
    const number = index + 1;
    const line = lines[index]!;
    if (line.trim() === '') continue;
    if (line.startsWith('#')) {
      const comment = /^#\s*(HELP|TYPE)\s+(\S+)(?:\s(.*))?$/.exec(line);
      if (!comment) continue;
      const [, keyword, name, rest = ''] = comment;
      if (!METRIC_NAME.test(name!) || METRIC_NAME.exec(name!)![0] !== name)
        throw new ExpositionSyntaxError(
          number,
          `invalid metric name in comment`,
        );
      const target = family(name!, number, false);
      if (keyword === 'HELP') {
        if (target.help !== undefined)
          throw new ExpositionSyntaxError(
            number,
            `second HELP line for metric name "${name}"`,
          );
        target.help = unescapeHelp(rest);
      } else {
        const type = rest.trim();
        if (!TYPES.has(type))
          throw new ExpositionSyntaxError(
            number,
            `unknown metric type "${type}"`,
          );
        if (target.typed || target.samples.length > 0)
          throw new ExpositionSyntaxError(
            number,
            `second TYPE line for metric name "${name}", or TYPE reported after samples`,
          );
        target.type = type as ExpositionType;
        target.typed = true;
      }
      continue;
    }
    const sample = parseSample(line, number);
    const owner = ownerName(sample, current);
    const target =
      owner === current?.name ? current : family(owner, number, true);
    target.samples.push(sample);
  }
  return families.map(({ name, help, type, samples }) => ({
    name,
    help,
    type,
    samples,
  }));
}

/** The family a sample belongs to: its histogram or summary when the name says so. */
function ownerName(
  sample: ExpositionSample,
  current: { name: string; type: ExpositionType } | undefined,
): string {
  if (current === undefined || sample.name === current.name) return sample.name;
  const suffixes =
    current.type === 'histogram'
      ? ['_bucket', '_sum', '_count']
      : current.type === 'summary'
        ? ['_sum', '_count']
        : [];
  for (const suffix of suffixes)
    if (sample.name === current.name + suffix) return current.name;
  return sample.name;
}

function parseSample(line: string, number: number): ExpositionSample {
  const name = METRIC_NAME.exec(line)?.[0];
  if (name === undefined)
    throw new ExpositionSyntaxError(number, 'invalid metric name');
  let at = name.length;
  const labels: Array<readonly [string, string]> = [];
  if (line[at] === '{') {
    at++;
    for (;;) {
      while (line[at] === ' ') at++;
      if (line[at] === '}') {
        at++;
        break;
      }
      const label = LABEL_NAME.exec(line.slice(at))?.[0];
      if (label === undefined)
        throw new ExpositionSyntaxError(
          number,
          `invalid label name for metric "${name}"`,
        );
      at += label.length;
      while (line[at] === ' ') at++;
      if (line[at] !== '=' || line[at + 1] !== '"')
        throw new ExpositionSyntaxError(
          number,
          `expected '="' after label name "${label}"`,
        );
      at += 2;
      let value = '';
      for (;;) {
        const char = line[at];
        if (char === undefined)
          throw new ExpositionSyntaxError(
            number,
            `unterminated label value for label "${label}"`,
          );
        at++;
        if (char === '"') break;
        if (char === '\\') {
          const escaped = line[at++];
          if (escaped === 'n') value += '\n';
          else if (escaped === '\\' || escaped === '"') value += escaped;
          else
            throw new ExpositionSyntaxError(
              number,
              `invalid escape sequence in label value`,
            );
        } else value += char;
      }
      if (labels.some(([known]) => known === label))
        throw new ExpositionSyntaxError(
          number,
          `duplicate label name "${label}" for metric "${name}"`,
        );
      labels.push([label, value]);
      while (line[at] === ' ') at++;
      if (line[at] === ',') at++;
      else if (line[at] !== '}')
        throw new ExpositionSyntaxError(
          number,
          `unexpected end of label value for metric "${name}"`,
        );
    }
  }
  const rest = line
    .slice(at)
    .trim()
    .split(/[ \t]+/);
  if (line[at] !== ' ' && line[at] !== '\t')
    throw new ExpositionSyntaxError(
      number,
      `expected a space before the value of metric "${name}"`,
    );
  if (rest.length === 0 || rest.length > 2 || rest[0] === '')
    throw new ExpositionSyntaxError(
      number,
      `expected a value (and an optional timestamp) for metric "${name}"`,
    );
  const value = parseValue(rest[0]!);
  if (value === undefined)
    throw new ExpositionSyntaxError(
      number,
      `expected float as value, got "${rest[0]}"`,
    );
  if (rest[1] !== undefined && !/^-?\d+$/.test(rest[1]))
    throw new ExpositionSyntaxError(
      number,
      `expected integer as timestamp, got "${rest[1]}"`,
    );
  return { name, labels, value, timestamp: rest[1] };
}

/** A float as Go's `strconv.ParseFloat` reads it (Prometheus' parser): `NaN`, `+Inf` in any case. */
function parseValue(text: string): number | undefined {
  const lower = text.toLowerCase();
  if (/^[+]?inf(inity)?$/.test(lower)) return Infinity;
  if (/^-inf(inity)?$/.test(lower)) return -Infinity;
  if (lower === 'nan') return NaN;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text)) return undefined;
  return Number(text);
}

function unescapeHelp(text: string): string {
  return text.replace(/\\(n|\\)/g, (_, char: string) =>
    char === 'n' ? '\n' : '\\',
  );
}

/** A value as the text format writes it (`+Inf`, `-Inf`, `NaN`, shortest decimal). */
export function formatValue(value: number): string {
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return String(value);
}

/** A label value with the text format's escapes. */
export function escapeLabelValue(value: string): string {
  return value
    .replace(/\\/g, '\\\\')
    .replace(/"/g, '\\"')
    .replace(/\n/g, '\\n');
}
