import { invalid } from './options/option-checks.js';
import { resolvePrefix } from './registry.options.js';
import { resolvePath } from './scrape/metrics-path.options.js';
import { parsePortVariable } from './scrape/metrics-port.options.js';

/** Options the environment can set; options given in code win over them. */
export interface EnvironmentOptions {
  enabled?: boolean;
  path?: string;
  prefix?: string;
  /** Port of the dedicated metrics server. */
  port?: number;
  clientMetrics?: boolean;
}

const BOOLEANS: Readonly<Record<string, boolean>> = {
  true: true,
  false: false,
  '1': true,
  '0': false,
};

/**
 * Reads `METRICS_ENABLED`, `METRICS_CLIENT_METRICS`, `METRICS_PATH`, `METRICS_PORT` and
 * `METRICS_PREFIX` from `env`, with
 * the checks of the options they set. Unset or empty variables set nothing; an invalid value
 * throws naming the variable.
 */
export function environmentOptions(
  env: NodeJS.ProcessEnv = process.env,
): EnvironmentOptions {
  const options: EnvironmentOptions = {};
  const enabled = read(env, 'METRICS_ENABLED');
  if (enabled !== undefined) {
    const value = BOOLEANS[enabled.toLowerCase()];
    if (value === undefined)
      throw invalid(
        { variable: 'METRICS_ENABLED' },
        'true, false, 1 or 0',
        enabled,
      );
    options.enabled = value;
  }
  const clientMetrics = read(env, 'METRICS_CLIENT_METRICS');
  if (clientMetrics !== undefined) {
    const value = BOOLEANS[clientMetrics.toLowerCase()];
    if (value === undefined)
      throw invalid(
        { variable: 'METRICS_CLIENT_METRICS' },
        'true, false, 1 or 0',
        clientMetrics,
      );
    options.clientMetrics = value;
  }
  const path = read(env, 'METRICS_PATH');
  if (path !== undefined)
    options.path = resolvePath(path, { variable: 'METRICS_PATH' });
  const port = read(env, 'METRICS_PORT');
  if (port !== undefined)
    options.port = parsePortVariable(port, 'METRICS_PORT');
  const prefix = read(env, 'METRICS_PREFIX');
  if (prefix !== undefined)
    options.prefix = resolvePrefix(prefix, { variable: 'METRICS_PREFIX' });
  return options;
}

/** The variable's value without surrounding spaces; `undefined` when unset or blank. */
function read(env: NodeJS.ProcessEnv, variable: string): string | undefined {
  const value = env[variable]?.trim();
  return value === undefined || value === '' ? undefined : value;
}
