import {
  METRIC_NAME_PATTERN,
  METRICS_PATH_PATTERN,
} from './metrics.constants.js';
import {
  invalidEnvironmentMessage,
  PATH_RULE,
  PREFIX_RULE,
} from './metrics.messages.js';

/** Options the environment can set; options given in code win over them. */
export interface EnvironmentOptions {
  enabled?: boolean;
  path?: string;
  prefix?: string;
  /** Port of the dedicated metrics server. */
  port?: number;
}

const BOOLEANS: Readonly<Record<string, boolean>> = {
  true: true,
  false: false,
  '1': true,
  '0': false,
};

/**
 * Reads `METRICS_ENABLED`, `METRICS_PATH`, `METRICS_PORT` and `METRICS_PREFIX` from `env`.
 * Unset or empty variables set nothing; an invalid value throws naming the variable.
 */
export function environmentOptions(
  env: NodeJS.ProcessEnv = process.env,
): EnvironmentOptions {
  const options: EnvironmentOptions = {};
  const enabled = read(env, 'METRICS_ENABLED');
  if (enabled !== undefined) {
    const value = BOOLEANS[enabled.toLowerCase()];
    if (value === undefined)
      fail('METRICS_ENABLED', 'true, false, 1 or 0', enabled);
    options.enabled = value;
  }
  const path = read(env, 'METRICS_PATH');
  if (path !== undefined) {
    if (!METRICS_PATH_PATTERN.test(path)) fail('METRICS_PATH', PATH_RULE, path);
    options.path = path;
  }
  const port = read(env, 'METRICS_PORT');
  if (port !== undefined) {
    if (!/^\d{1,5}$/.test(port) || Number(port) > 65535) {
      fail('METRICS_PORT', 'an integer from 0 to 65535', port);
    }
    options.port = Number(port);
  }
  const prefix = read(env, 'METRICS_PREFIX');
  if (prefix !== undefined) {
    if (!METRIC_NAME_PATTERN.test(prefix))
      fail('METRICS_PREFIX', PREFIX_RULE, prefix);
    options.prefix = prefix;
  }
  return options;
}

/** The variable's value without surrounding spaces; `undefined` when unset or blank. */
function read(env: NodeJS.ProcessEnv, variable: string): string | undefined {
  const value = env[variable]?.trim();
  return value === undefined || value === '' ? undefined : value;
}

function fail(variable: string, expected: string, got: string): never {
  throw new TypeError(invalidEnvironmentMessage(variable, expected, got));
}
