/** One element of a comma-separated header with quality values (`Accept`, `Accept-Encoding`). */
export interface WeightedElement {
  /** The media range or coding, lower case. */
  value: string;
  /** Parameters before `q`, names lower case, values unquoted. */
  params: ReadonlyMap<string, string>;
  /** The quality value, 0 to 1 (1 when absent). */
  q: number;
}

const QVALUE = /^(?:0(?:\.\d{0,3})?|1(?:\.0{0,3})?)$/;
const PARAM = /^([!#$%&'*+.^_`|~0-9a-z-]+)\s*=\s*(.*)$/i;

/**
 * Parses a header such as `text/plain;version=0.0.4;q=0.5, *\/*;q=0.1` (RFC 9110 §12.4.2, §12.5).
 * An element that is malformed (bad parameter, q out of range or with more than three
 * decimals) is dropped on its own; the others still count.
 */
export function parseWeightedHeader(
  header: string | string[] | undefined,
): WeightedElement[] {
  if (header === undefined) return [];
  const text = Array.isArray(header) ? header.join(',') : header;
  const elements: WeightedElement[] = [];
  for (const raw of splitOutsideQuotes(text, ',')) {
    const element = parseElement(raw);
    if (element) elements.push(element);
  }
  return elements;
}

function parseElement(raw: string): WeightedElement | undefined {
  const [head, ...rest] = splitOutsideQuotes(raw, ';');
  const value = head.trim().toLowerCase();
  if (value === '') return undefined;
  const params = new Map<string, string>();
  let q = 1;
  for (const part of rest) {
    const match = PARAM.exec(part.trim());
    if (!match) return undefined;
    const name = match[1].toLowerCase();
    const paramValue = unquote(match[2].trim());
    if (paramValue === undefined) return undefined;
    if (name === 'q') {
      if (!QVALUE.test(paramValue)) return undefined;
      q = Number(paramValue);
      break; // what follows q are accept-extensions, which nothing here uses
    }
    params.set(name, paramValue);
  }
  return { value, params, q };
}

function unquote(value: string): string | undefined {
  if (!value.startsWith('"')) return /[\s"]/.test(value) ? undefined : value;
  if (value.length < 2 || !value.endsWith('"')) return undefined;
  return value.slice(1, -1).replace(/\\(.)/g, '$1');
}

function splitOutsideQuotes(text: string, separator: string): string[] {
  const parts: string[] = [];
  let current = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const char = text[i];
    if (quoted && char === '\\' && i + 1 < text.length) {
      current += char + text[++i];
      continue;
    }
    if (char === '"') quoted = !quoted;
    if (char === separator && !quoted) {
      parts.push(current);
      current = '';
    } else {
      current += char;
    }
  }
  parts.push(current);
  return parts;
}
