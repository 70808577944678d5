import { invalid } from '../options/option-checks.js';

/** Checks the `excludePaths` option: route templates, each starting with `/`. */
export function resolveExcludePaths(paths: unknown): ReadonlySet<string> {
  if (paths === undefined) return new Set();
  if (
    !Array.isArray(paths) ||
    !paths.every((path) => typeof path === 'string' && path.startsWith('/'))
  ) {
    throw invalid(
      'excludePaths',
      'an array of route templates that start with "/"',
      paths,
    );
  }
  return new Set(paths as string[]);
}
