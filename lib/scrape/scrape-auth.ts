import type { IncomingMessage } from 'node:http';
import { digestOf, matchesDigest } from './constant-time-equal.js';

/** Decides whether a scrape request may read the metrics. */
export type ScrapeAuthFunction = (
  request: IncomingMessage,
) => boolean | Promise<boolean>;

/**
 * The `auth` option: a bearer token, a user name and password (HTTP Basic), or a function
 * that decides from the raw request.
 */
export type ScrapeAuthOption =
  | { bearer: string }
  | { username: string; password: string }
  | ScrapeAuthFunction;

/**
 * Checks scrape credentials. It keeps only SHA-256 digests of the configured secrets (so
 * printing the resolved options shows no secret) and compares in constant time.
 */
export class ScrapeAuth {
  private constructor(
    /** The `WWW-Authenticate` challenge sent with a 401. */
    readonly challenge: string,
    private readonly verify: (request: IncomingMessage) => Promise<boolean>,
  ) {}

  /** `Authorization: Bearer <token>`. */
  static bearer(token: string): ScrapeAuth {
    const expected = digestOf(token);
    return new ScrapeAuth('Bearer realm="metrics"', async (request) => {
      const credentials = credentialsOf(request, 'bearer');
      return credentials !== undefined && matchesDigest(credentials, expected);
    });
  }

  /** `Authorization: Basic base64(username:password)`, UTF-8 (RFC 7617). */
  static basic(username: string, password: string): ScrapeAuth {
    const expectedUser = digestOf(username);
    const expectedPassword = digestOf(password);
    return new ScrapeAuth(
      'Basic realm="metrics", charset="UTF-8"',
      async (request) => {
        const pair = decodeBasic(credentialsOf(request, 'basic'));
        if (pair === undefined) return false;
        // Both comparisons run whatever the first one says.
        const userMatches = matchesDigest(pair.username, expectedUser);
        const passwordMatches = matchesDigest(pair.password, expectedPassword);
        return userMatches && passwordMatches;
      },
    );
  }

  /** A function of the request; only `true` lets the scrape through. */
  static custom(check: ScrapeAuthFunction): ScrapeAuth {
    return new ScrapeAuth(
      'Bearer realm="metrics"',
      async (request) => (await check(request)) === true,
    );
  }

  /** Whether the request may scrape. Rejects when a custom function throws or rejects. */
  allows(request: IncomingMessage): Promise<boolean> {
    return this.verify(request);
  }

  /** Keeps the digests out of logs and `util.inspect` of the options. */
  toJSON(): string {
    return '[ScrapeAuth]';
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return '[ScrapeAuth]';
  }
}

/** The credentials of an `Authorization` header of the given scheme (case-insensitive). */
function credentialsOf(
  request: IncomingMessage,
  scheme: 'bearer' | 'basic',
): string | undefined {
  const header = request.headers.authorization;
  if (typeof header !== 'string') return undefined;
  const match = /^([A-Za-z]+) +(\S+) *$/.exec(header);
  if (!match || match[1].toLowerCase() !== scheme) return undefined;
  return match[2];
}

const BASE64 =
  /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const utf8 = new TextDecoder('utf-8', { fatal: true });

function decodeBasic(
  credentials: string | undefined,
): { username: string; password: string } | undefined {
  if (credentials === undefined || !BASE64.test(credentials)) return undefined;
  let decoded: string;
  try {
    decoded = utf8.decode(Buffer.from(credentials, 'base64'));
  } catch {
    return undefined;
  }
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  return {
    username: decoded.slice(0, colon),
    password: decoded.slice(colon + 1),
  };
}
