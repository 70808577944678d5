import { types } from 'node:util';

/** The label value of a call that logged no error and no stack. */
export const NO_EXCEPTION = 'none';
/** The `logger` label value of a call without a context. */
export const NO_LOGGER = 'none';

/** Longest label value taken from a log call (names, contexts); longer ones are cut. */
const MAX_LABEL_LENGTH = 120;

/** A stack as V8 writes it: a first line, then `    at …` frames. */
const STACK_FRAME = /\n[ \t]+at /;
/** The type at the start of a stack's first line: `TypeError: …`, `Error [ERR_X]: …`, `Error`. */
const STACK_TYPE = /^\s*([A-Za-z_$][\w$]*)(?:\s*\[[^\]\n]*\])?\s*(?::|\n)/;

export function isError(value: unknown): value is Error {
  return value instanceof Error || types.isNativeError(value);
}

export function isStack(value: unknown): value is string {
  return typeof value === 'string' && STACK_FRAME.test(value);
}

/**
 * The type of a logged error: its `name`, unless that name is only inherited from a built-in
 * error class while the error is an instance of a subclass (`class PaymentDeclined extends
 * Error {}` has the name `Error`): then the subclass's name. An own `name` (`this.name = …`, a
 * class field) or a `name` on the subclass's prototype wins over the constructor's name.
 */
export function exceptionTypeOf(error: Error): string {
  let name: unknown;
  try {
    name = error.name;
    const constructor = (error as { constructor?: unknown }).constructor;
    if (
      typeof constructor === 'function' &&
      constructor.name !== '' &&
      !Object.prototype.hasOwnProperty.call(error, 'name') &&
      !Object.prototype.hasOwnProperty.call(constructor.prototype, 'name')
    ) {
      name = constructor.name;
    }
  } catch {
    // A getter that throws: fall back to what was read.
  }
  return typeof name === 'string' && name !== ''
    ? cut(name)
    : Object.prototype.toString.call(error).slice(8, -1);
}

/** The type named by the first line of a stack string (`TypeError: boom` → `TypeError`). */
export function exceptionTypeOfStack(stack: string): string | undefined {
  const match = STACK_TYPE.exec(stack);
  return match === null ? undefined : cut(match[1]!);
}

/** The `code` of an error or of the first error of its `cause` chain that has one. */
export function errorCodeOf(error: unknown): string {
  let current = error;
  for (let depth = 0; depth < 4 && current !== null; depth++) {
    if (typeof current !== 'object') return '';
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && code !== '') return code;
    if (typeof code === 'number') return String(code);
    current = (current as { cause?: unknown }).cause;
  }
  return '';
}

/** The text of a logged message: a string as is, an error's or a record's `message`. */
export function messageOf(message: unknown): string {
  if (typeof message === 'string') return message;
  if (message !== null && typeof message === 'object') {
    const text = (message as { message?: unknown }).message;
    if (typeof text === 'string') return text;
  }
  return '';
}

export function cut(value: string): string {
  return value.length > MAX_LABEL_LENGTH
    ? value.slice(0, MAX_LABEL_LENGTH)
    : value;
}
