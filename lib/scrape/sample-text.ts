/**
 * The pieces of an exposition line, formatted exactly as prom-client 15's `Registry` formats them
 * (lib/registry.js and lib/util.js), so that families rendered by the library and by prom-client
 * read the same byte for byte.
 */

/** Escapes `\` and newlines (metric names, HELP text and, with `"`, label values). */
export function escapeText(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

/** A label value between quotes: strings escaped, anything else as JavaScript prints it. */
export function escapeLabelValue(value: unknown): string {
  if (typeof value !== 'string') return `${value as string}`;
  return escapeText(value).replace(/"/g, '\\"');
}

/** `name="value"` pairs joined by commas, in the object's order, leaving out `excluded` names. */
export function labelPairs(
  labels: Readonly<Record<string, unknown>>,
  excluded?: readonly string[],
): string {
  let text = '';
  for (const [name, value] of Object.entries(labels)) {
    if (excluded?.includes(name)) continue;
    text += `${text === '' ? '' : ','}${name}="${escapeLabelValue(value)}"`;
  }
  return text;
}

/** A sample value: `Nan` (sic), `+Inf`, `-Inf` or the number as JavaScript prints it. */
export function sampleValue(value: number): string {
  if (Number.isNaN(value)) return 'Nan';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return `${value}`;
}
