import { execFileSync } from 'node:child_process';

/**
 * The path of a system binary, or undefined (with a warning saying what is skipped) when it is
 * not installed. In CI (`CI` set) a missing binary is an error: CI installs it.
 */
export function findSystemBinary(
  name: string,
  debianPackage: string,
  skipped: string,
): string | undefined {
  try {
    const path = execFileSync('sh', ['-c', `command -v ${name}`], {
      encoding: 'utf8',
    }).trim();
    if (path) return path;
  } catch {
    // not on PATH
  }
  if (process.env.CI) {
    throw new Error(
      `${name} is required in CI (Debian package ${debianPackage})`,
    );
  }
  console.warn(
    `${name} not found (Debian package ${debianPackage}): ${skipped} skipped`,
  );
  return undefined;
}
