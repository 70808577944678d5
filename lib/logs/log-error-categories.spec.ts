import { describe, expect, it } from '@jest/globals';
import {
  categorize,
  compileCategoryRules,
  DEFAULT_LOG_ERROR_CATEGORIES,
  MATCHED_LENGTH,
  wordsOf,
  type CategoryInput,
} from './log-error-categories.js';
import {
  errorCodeOf,
  exceptionTypeOf,
  exceptionTypeOfStack,
} from './log-call-details.js';

const defaults = compileCategoryRules(DEFAULT_LOG_ERROR_CATEGORIES);

function input(fields: Partial<CategoryInput>): CategoryInput {
  return { logger: '', message: '', exceptionType: '', code: '', ...fields };
}

describe('category rules', () => {
  const api = compileCategoryRules([
    { category: 'external_api', message: ['api'] },
  ]);

  it.each([
    ['api call failed', 'external_api'],
    ['GET api.example.com/v1 failed', 'external_api'],
    ['ExternalApiError raised', 'external_api'],
    ['rapid retries exhausted', 'general'],
    ['capitalize', 'general'],
    ['apis', 'general'],
  ])('matches whole words only: %j is %s', (message, category) => {
    expect(categorize(api, input({ message }))).toBe(category);
  });

  it('matches words written apart, joined or in camelCase, ignoring case', () => {
    const rules = compileCategoryRules([
      { category: 'orm', logger: ['typeorm'] },
      { category: 'late', message: ['timed out'] },
      { category: 'dns', code: ['EAI_AGAIN'] },
    ]);
    expect(categorize(rules, input({ logger: 'TypeOrmModule' }))).toBe('orm');
    expect(categorize(rules, input({ logger: 'TYPEORM' }))).toBe('orm');
    expect(categorize(rules, input({ message: 'job TimedOut' }))).toBe('late');
    expect(categorize(rules, input({ message: 'timed-out' }))).toBe('late');
    expect(categorize(rules, input({ code: 'EAI_AGAIN' }))).toBe('dns');
    expect(categorize(rules, input({ code: 'EAI_AGAINST' }))).toBe('general');
  });

  it('splits words at separators and inside camelCase', () => {
    expect(wordsOf('ExternalApiError: GET api.example.com/v1')).toEqual([
      'external',
      'api',
      'error',
      'get',
      'api',
      'example',
      'com',
      'v1',
    ]);
    expect(wordsOf('HTTPError S3Upload EAI_AGAIN')).toEqual([
      'http',
      'error',
      's3',
      'upload',
      'eai',
      'again',
    ]);
  });

  it('reads only the first MATCHED_LENGTH characters of a field', () => {
    const padding = 'x '.repeat(MATCHED_LENGTH / 2 - 2);
    expect(categorize(api, input({ message: `${padding}api` }))).toBe(
      'external_api',
    );
    expect(categorize(api, input({ message: `${padding}   api` }))).toBe(
      'general',
    );
  });

  it('takes the first rule that matches, and a rule without words matches everything', () => {
    const rules = compileCategoryRules([
      { category: 'first', message: ['disk'] },
      { category: 'second', message: ['disk', 'full'] },
      { category: 'rest' },
      { category: 'never', message: ['full'] },
    ]);
    expect(categorize(rules, input({ message: 'disk full' }))).toBe('first');
    expect(categorize(rules, input({ message: 'queue stalled' }))).toBe('rest');
    expect(categorize(compileCategoryRules([]), input({}))).toBe('general');
  });

  it.each([
    [{ exceptionType: 'QueryFailedError' }, 'database'],
    [{ logger: 'TypeOrmModule', message: 'Unable to connect' }, 'database'],
    [{ exceptionType: 'PrismaClientKnownRequestError' }, 'database'],
    [{ message: 'connect ECONNREFUSED 127.0.0.1:5432' }, 'network'],
    [{ code: 'ECONNRESET', message: 'socket closed' }, 'network'],
    [{ code: 'ETIMEDOUT' }, 'network'],
    [{ code: 'EAI_AGAIN' }, 'network'],
    [
      { exceptionType: 'TimeoutError', message: 'Timeout has occurred' },
      'timeout',
    ],
    [{ message: 'JavaScript heap out of memory' }, 'memory'],
    [{ exceptionType: 'BadRequestException' }, 'validation'],
    [{ exceptionType: 'ZodError' }, 'validation'],
    [{ exceptionType: 'UnauthorizedException' }, 'auth'],
    [{ message: 'jwt expired' }, 'auth'],
    [
      { exceptionType: 'AxiosError', message: 'Request failed' },
      'external_api',
    ],
    [{ message: 'payments api answered 502' }, 'external_api'],
    [{ message: 'rapid growth' }, 'general'],
    [{ exceptionType: 'TypeError', message: 'x is not a function' }, 'general'],
  ])('default rules: %j is %s', (fields, category) => {
    expect(categorize(defaults, input(fields))).toBe(category);
  });
});

describe('exception types', () => {
  class PaymentDeclined extends Error {}
  class BadInput extends TypeError {}
  class Named extends Error {
    override name = 'NamedByField';
  }
  class SetsName extends Error {
    constructor() {
      super('x');
      this.name = new.target.name; // TypeORM's TypeORMError does this
    }
  }
  class QueryFailedError extends SetsName {}

  it('is the name, or the subclass when the name is only inherited', () => {
    expect(new PaymentDeclined().name).toBe('Error');
    expect(exceptionTypeOf(new PaymentDeclined())).toBe('PaymentDeclined');
    expect(exceptionTypeOf(new BadInput())).toBe('BadInput');
    expect(exceptionTypeOf(new TypeError())).toBe('TypeError');
    expect(exceptionTypeOf(new Error())).toBe('Error');
    expect(exceptionTypeOf(new Named())).toBe('NamedByField');
    expect(exceptionTypeOf(new QueryFailedError())).toBe('QueryFailedError');
  });

  it('reads the first line of a stack', () => {
    expect(exceptionTypeOfStack(new TypeError('boom').stack!)).toBe(
      'TypeError',
    );
    expect(
      exceptionTypeOfStack(
        'TypeError [ERR_INVALID_ARG_TYPE]: The "path" argument\n    at f (a.js:1:1)',
      ),
    ).toBe('TypeError');
    expect(exceptionTypeOfStack('Error\n    at f (a.js:1:1)')).toBe('Error');
    expect(exceptionTypeOfStack('not a stack: at all')).toBeUndefined();
    expect(exceptionTypeOfStack('  \n')).toBeUndefined();
  });

  it('finds a code on the error or its cause', () => {
    const cause = Object.assign(new Error('connect'), { code: 'ECONNREFUSED' });
    expect(errorCodeOf(new TypeError('fetch failed', { cause }))).toBe(
      'ECONNREFUSED',
    );
    expect(errorCodeOf(Object.assign(new Error(), { code: 1045 }))).toBe(
      '1045',
    );
    expect(errorCodeOf(new Error())).toBe('');
  });
});
