/** The summary path of an app whose metrics path is the default `/metrics`. */
export const DEFAULT_SUMMARY_PATH = '/metrics/summary';

export const TOP_USAGE = `Usage: nestjs-metrics top <url> [--token <token>] [--user <user:password>] [--interval <seconds>] [--once]

  <url>        the app's base URL (http://localhost:3000: reads ${DEFAULT_SUMMARY_PATH}), or the
               full URL of its summary (a path ending in /summary, e.g. http://localhost:9464/internal/metrics/summary)
  --token      a bearer token for the module's auth option
  --user       user:password for basic auth
  --interval   seconds between refreshes (default 2)
  --once       print one frame and exit (also when the output is not a terminal)`;

export interface TopArguments {
  readonly url: URL;
  readonly authorization: string | undefined;
  readonly intervalSeconds: number;
  readonly once: boolean;
}

/** A mistake on the command line; the message says which, and the usage follows it. */
export class UsageError extends Error {}

/**
 * Reads `top`'s arguments (after the word `top`). `<url>` is the app's base URL, whose
 * `/metrics/summary` is read, unless its path already ends in `/summary`.
 */
export function parseTopArguments(args: readonly string[]): TopArguments {
  let url: string | undefined;
  let token: string | undefined;
  let user: string | undefined;
  let interval = 2;
  let once = false;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const [flag, inline] = arg.startsWith('--') ? splitFlag(arg) : [arg];
    const value = (): string => {
      const given = inline ?? args[++i];
      if (given === undefined || given === '')
        throw new UsageError(`${flag} needs a value`);
      return given;
    };
    switch (flag) {
      case '--token':
        token = value();
        break;
      case '--user':
        user = value();
        if (!user.includes(':'))
          throw new UsageError('--user takes user:password');
        break;
      case '--interval': {
        const given = value();
        interval = Number(given);
        if (!Number.isFinite(interval) || interval < 0.1 || interval > 3600)
          throw new UsageError(
            `--interval takes seconds between 0.1 and 3600, got "${given}"`,
          );
        break;
      }
      case '--once':
        once = true;
        break;
      default:
        if (arg.startsWith('-')) throw new UsageError(`unknown option ${arg}`);
        if (url !== undefined)
          throw new UsageError(`one URL only, got "${url}" and "${arg}"`);
        url = arg;
    }
  }
  if (url === undefined) throw new UsageError('the app URL is missing');
  if (token !== undefined && user !== undefined)
    throw new UsageError('give --token or --user, not both');
  return {
    url: summaryUrl(url),
    authorization:
      token !== undefined
        ? `Bearer ${token}`
        : user !== undefined
          ? `Basic ${Buffer.from(user).toString('base64')}`
          : undefined,
    intervalSeconds: interval,
    once,
  };
}

function splitFlag(arg: string): [string, string | undefined] {
  const at = arg.indexOf('=');
  return at === -1 ? [arg, undefined] : [arg.slice(0, at), arg.slice(at + 1)];
}

/** The summary URL for what was given: as is when its path ends in `/summary`. */
export function summaryUrl(given: string): URL {
  let url: URL;
  try {
    url = new URL(
      /^[a-z][a-z0-9+.-]*:\/\//i.test(given) ? given : `http://${given}`,
    );
  } catch {
    throw new UsageError(`"${given}" is not a URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new UsageError(`"${given}" is not an http:// or https:// URL`);
  if (!/\/summary\/?$/.test(url.pathname))
    url.pathname = url.pathname.replace(/\/+$/, '') + DEFAULT_SUMMARY_PATH;
  return url;
}
