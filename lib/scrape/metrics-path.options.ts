import {
  DEFAULT_METRICS_PATH,
  METRICS_PATH_PATTERN,
} from '../metrics.constants.js';
import { PATH_RULE } from '../metrics.messages.js';
import { invalid, type SettingName } from '../options/option-checks.js';

/** Checks the `path` option (or `METRICS_PATH`); a trailing `/` is dropped. */
export function resolvePath(path: unknown, name: SettingName = 'path'): string {
  if (path === undefined) return DEFAULT_METRICS_PATH;
  if (typeof path !== 'string' || !METRICS_PATH_PATTERN.test(path)) {
    throw invalid(name, PATH_RULE, path);
  }
  return path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path;
}
