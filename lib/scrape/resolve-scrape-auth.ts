import { invalidSecretOptionMessage } from '../metrics.messages.js';
import { ScrapeAuth } from './scrape-auth.js';

const SHAPES =
  '{ bearer: string }, { username: string, password: string } or a function (request) => boolean | Promise<boolean>';

/**
 * Checks the `auth` option and turns it into a `ScrapeAuth`. Error messages never contain a
 * token, user name or password, only the option's name and the kind of value found.
 */
export function resolveScrapeAuth(auth: unknown): ScrapeAuth | undefined {
  if (auth === undefined) return undefined;
  if (typeof auth === 'function')
    return ScrapeAuth.custom(auth as Parameters<typeof ScrapeAuth.custom>[0]);
  if (auth === null || typeof auth !== 'object' || Array.isArray(auth)) {
    throw new TypeError(invalidSecretOptionMessage('auth', SHAPES, auth));
  }
  const fields = auth as Record<string, unknown>;
  const keys = Object.keys(fields).sort().join(',');
  if (keys === 'bearer') {
    return ScrapeAuth.bearer(
      secret(fields.bearer, 'auth.bearer', 'a non-empty string without spaces'),
    );
  }
  if (keys === 'password,username') {
    const username = secret(
      fields.username,
      'auth.username',
      'a non-empty string without spaces or ":"',
    );
    if (username.includes(':')) {
      throw new TypeError(
        invalidSecretOptionMessage(
          'auth.username',
          'a non-empty string without spaces or ":"',
          username,
        ),
      );
    }
    return ScrapeAuth.basic(
      username,
      secret(
        fields.password,
        'auth.password',
        'a non-empty string without control characters',
      ),
    );
  }
  throw new TypeError(
    invalidSecretOptionMessage(
      'auth',
      `${SHAPES} (found the keys: ${keys === '' ? 'none' : keys})`,
      auth,
    ),
  );
}

function secret(value: unknown, option: string, expected: string): string {
  const spacesAllowed = option === 'auth.password';
  if (
    typeof value !== 'string' ||
    value === '' ||
    // eslint-disable-next-line no-control-regex
    /[\u0000-\u001f\u007f]/.test(value) ||
    (!spacesAllowed && /\s/.test(value))
  ) {
    throw new TypeError(invalidSecretOptionMessage(option, expected, value));
  }
  return value;
}
