import { describe, expect, it } from '@jest/globals';
import { ConsoleLogger } from '@nestjs/common';
import { resolveOptions } from '../metrics.options.js';

describe('logErrors option', () => {
  it.each([
    [
      'not an object',
      'option "logErrors" must be an object { warn?, categories?, logger? }; got "yes".',
      'yes',
    ],
    [
      'an unknown key',
      'option "logErrors.level" must be one of warn, categories, logger (unknown option); got "level".',
      { level: 'warn' },
    ],
    [
      'warn not a boolean',
      'option "logErrors.warn" must be true or false; got "true".',
      { warn: 'true' },
    ],
    [
      'categories not an array',
      'option "logErrors.categories" must be an array of rules { category, logger?, message?, exceptionType?, code? }; got',
      { categories: { category: 'x' } },
    ],
    [
      'a rule without category',
      'option "logErrors.categories[1].category" must be a non-empty string; got',
      { categories: [{ category: 'a' }, { message: ['x'] }] },
    ],
    [
      'a rule with an unknown key',
      'option "logErrors.categories[0].messages" must be one of category, logger, message, exceptionType, code (unknown option)',
      { categories: [{ category: 'a', messages: ['x'] }] },
    ],
    [
      'words not an array',
      'option "logErrors.categories[0].code" must be an array of words; got',
      { categories: [{ category: 'a', code: 'ECONNRESET' }] },
    ],
    [
      'a word without letters or digits',
      'option "logErrors.categories[0].message[1]" must be a word with a letter or digit; got',
      { categories: [{ category: 'a', message: ['ok', '--'] }] },
    ],
    [
      'a logger that is no LoggerService',
      'option "logErrors.logger" must be a LoggerService (an object with log, error and warn methods); got',
      { logger: { log() {} } },
    ],
  ])('fails start-up naming the option path: %s', (_case, message, value) => {
    expect(() => resolveOptions({ logErrors: value as never })).toThrow(
      `nestjs-metrics: ${message}`,
    );
  });

  it('takes valid settings', () => {
    const logger = new ConsoleLogger();
    const resolved = resolveOptions({
      logErrors: {
        warn: true,
        categories: [{ category: 'billing', logger: ['PaymentsService'] }],
        logger,
      },
    }).logErrors;
    expect(resolved.warn).toBe(true);
    expect(resolved.logger).toBe(logger);
    expect(resolved.rules.categories).toEqual(['billing']);
  });
});
