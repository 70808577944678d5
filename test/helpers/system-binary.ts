import { execFileSync } from 'node:child_process';
import { requireBinary } from './requirements.js';

/**
 * The path of a system binary, or undefined (with a warning saying what is skipped) when it is
 * not installed. In CI (`CI` set) a missing binary is an error: CI installs it.
 * `skipped` reads as a sentence subject ("the promtool check", "the tests … are").
 */
export function findSystemBinary(
  name: string,
  debianPackage: string,
  skipped: string,
): string | undefined {
  return requireBinary(
    name,
    debianPackage,
    skipped.replace(/\s+(are|is)$/, ''),
  );
}

/**
 * Asserts that `promtool check metrics` finds nothing to report in `text`; does nothing when
 * promtool is not installed (`findSystemBinary` already warned, or failed under CI).
 */
export function expectPromtoolAccepts(
  promtool: string | undefined,
  text: string,
): void {
  if (promtool === undefined) return;
  expect(
    execFileSync(promtool, ['check', 'metrics'], {
      input: text,
      encoding: 'utf8',
    }),
  ).toBe('');
}
