import { invalid, type SettingName } from '../options/option-checks.js';

const PORT_RULE = 'an integer from 0 to 65535';

/** Checks the `port` option (or `METRICS_PORT`, once read as a number). */
export function resolvePort(
  port: unknown,
  name: SettingName = 'port',
): number | undefined {
  if (port === undefined) return undefined;
  if (
    typeof port !== 'number' ||
    !Number.isInteger(port) ||
    port < 0 ||
    port > 65535
  ) {
    throw invalid(
      name,
      typeof name === 'string'
        ? `${PORT_RULE} (0 picks a free port)`
        : PORT_RULE,
      port,
    );
  }
  return port;
}

/** Reads `METRICS_PORT`: digits only, then the `port` check. */
export function parsePortVariable(value: string, variable: string): number {
  if (!/^\d{1,5}$/.test(value)) throw invalid({ variable }, PORT_RULE, value);
  return resolvePort(Number(value), { variable })!;
}

/** Checks the `host` option: only with `port`, whose interface it is. */
export function resolveHost(host: unknown, port: unknown): string | undefined {
  if (host === undefined) return undefined;
  if (typeof host !== 'string' || host.trim() === '' || /\s/.test(host)) {
    throw invalid(
      'host',
      'a host name or IP address without spaces (e.g. "127.0.0.1")',
      host,
    );
  }
  if (port === undefined) {
    throw invalid(
      'host',
      'given together with "port" (it is the interface of the metrics port)',
      host,
    );
  }
  return host;
}
