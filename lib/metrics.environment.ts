import { invalid, isLabelName } from './options/option-checks.js';
import {
  logPushEnvironment,
  type LogPushOptions,
} from './push/log-push/log-push.options.js';
import { libraryLabels, resolvePrefix } from './registry.options.js';
import { resolvePath } from './scrape/metrics-path.options.js';
import { parsePortVariable } from './scrape/metrics-port.options.js';

/** Options the environment can set; options given in code win over them. */
export interface EnvironmentOptions {
  enabled?: boolean;
  path?: string;
  prefix?: string;
  /** Port of the dedicated metrics server. */
  port?: number;
  /** `logPush` fields from `METRICS_LOG_PUSH_*`; code's fields win one by one. */
  logPush?: Partial<LogPushOptions>;
  hostMetrics?: boolean;
  gpuMetrics?: boolean;
  /** From `METRICS_LABEL_<NAME>=value`: the label `<name>` (lower case). */
  defaultLabels?: Record<string, string>;
  clientMetrics?: boolean;
}

/** The prefix of the variables that add a default label each. */
const LABEL_VARIABLE_PREFIX = 'METRICS_LABEL_';

const BOOLEANS: Readonly<Record<string, boolean>> = {
  true: true,
  false: false,
  '1': true,
  '0': false,
};

/**
 * Reads `METRICS_ENABLED`, `METRICS_CLIENT_METRICS`, `METRICS_PATH`, `METRICS_PORT`, `METRICS_PREFIX`,
 * `ENABLE_HOST_METRICS`, `ENABLE_GPU_METRICS`, `METRICS_LABEL_<NAME>` and the `METRICS_LOG_PUSH_*`
 * variables from `env`, with
 * the checks of the options they set. Unset or empty variables set nothing; an invalid value
 * throws naming the variable.
 */
export function environmentOptions(
  env: NodeJS.ProcessEnv = process.env,
): EnvironmentOptions {
  const options: EnvironmentOptions = {};
  const enabled = readBoolean(env, 'METRICS_ENABLED');
  if (enabled !== undefined) options.enabled = enabled;
  const hostMetrics = readBoolean(env, 'ENABLE_HOST_METRICS');
  if (hostMetrics !== undefined) options.hostMetrics = hostMetrics;
  const gpuMetrics = readBoolean(env, 'ENABLE_GPU_METRICS');
  if (gpuMetrics !== undefined) options.gpuMetrics = gpuMetrics;
  const labels = labelVariables(env);
  if (labels !== undefined) options.defaultLabels = labels;
  const clientMetrics = readBoolean(env, 'METRICS_CLIENT_METRICS');
  if (clientMetrics !== undefined) options.clientMetrics = clientMetrics;
  const path = read(env, 'METRICS_PATH');
  if (path !== undefined)
    options.path = resolvePath(path, { variable: 'METRICS_PATH' });
  const port = read(env, 'METRICS_PORT');
  if (port !== undefined)
    options.port = parsePortVariable(port, 'METRICS_PORT');
  const prefix = read(env, 'METRICS_PREFIX');
  if (prefix !== undefined)
    options.prefix = resolvePrefix(prefix, { variable: 'METRICS_PREFIX' });
  const logPush = logPushEnvironment((variable) => read(env, variable));
  if (logPush !== undefined) options.logPush = logPush;
  return options;
}

function readBoolean(
  env: NodeJS.ProcessEnv,
  variable: string,
): boolean | undefined {
  const text = read(env, variable);
  if (text === undefined) return undefined;
  const value = BOOLEANS[text.toLowerCase()];
  if (value === undefined)
    throw invalid({ variable }, 'true, false, 1 or 0', text);
  return value;
}

/**
 * `METRICS_LABEL_<NAME>=value` as `{ <name>: value }`, the name in lower case and checked like a
 * `defaultLabels` name (a label name the library uses itself is refused, naming the variable).
 */
function labelVariables(
  env: NodeJS.ProcessEnv,
): Record<string, string> | undefined {
  const labels: Record<string, string> = {};
  const taken = libraryLabels(false);
  for (const variable of Object.keys(env).sort()) {
    if (!variable.startsWith(LABEL_VARIABLE_PREFIX)) continue;
    const value = read(env, variable);
    if (value === undefined) continue;
    const name = variable.slice(LABEL_VARIABLE_PREFIX.length).toLowerCase();
    if (!isLabelName(name))
      throw invalid(
        { variable },
        `named METRICS_LABEL_<NAME> with <NAME> a label name ([A-Za-z_][A-Za-z0-9_]*, not starting with __); the label would be "${name}"`,
        value,
      );
    const reason = taken.get(name);
    if (reason !== undefined)
      throw invalid(
        { variable },
        `named for a label the library does not use itself; "${name}" is taken (${reason})`,
        value,
      );
    labels[name] = value;
  }
  return Object.keys(labels).length > 0 ? labels : undefined;
}

/** The variable's value without surrounding spaces; `undefined` when unset or blank. */
function read(env: NodeJS.ProcessEnv, variable: string): string | undefined {
  const value = env[variable]?.trim();
  return value === undefined || value === '' ? undefined : value;
}
