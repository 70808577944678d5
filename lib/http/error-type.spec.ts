import { BadRequestException, HttpException } from '@nestjs/common';
import { queueErrorType } from '../queue/queue-error-type.js';
import { transportErrorType } from '../transports/transport-error-type.js';
import { httpErrorType, statusErrorType } from './error-type.js';

describe('statusErrorType', () => {
  it.each([
    [200, undefined],
    [302, undefined],
    [399, undefined],
    [400, 'client_error'],
    [401, 'unauthorized'],
    [403, 'forbidden'],
    [404, 'not_found'],
    [408, 'timeout'],
    [409, 'client_error'],
    [413, 'client_error'],
    [499, 'client_error'],
    [500, 'internal'],
    [503, 'internal'],
    [504, 'timeout'],
    [599, 'internal'],
  ])('maps status %p alone to %p', (status, expected) => {
    expect(statusErrorType(status)).toBe(expected);
  });

  it('reads the exception where the status alone cannot tell', () => {
    expect(statusErrorType(400, new BadRequestException())).toBe('validation');
    expect(statusErrorType(400, new SyntaxError('json'))).toBe(
      'deserialization',
    );
    expect(
      statusErrorType(
        400,
        new BadRequestException('bad', { cause: new SyntaxError('json') }),
      ),
    ).toBe('deserialization');
    const timeout = Object.assign(new Error('slow'), { name: 'TimeoutError' });
    expect(statusErrorType(500, timeout)).toBe('timeout');
  });

  it('is the table HTTP responses use', () => {
    for (let status = 100; status < 600; status++) {
      expect(
        httpErrorType({
          status,
          error: undefined,
          aborted: false,
          streamFailed: false,
        }),
      ).toBe(statusErrorType(status));
    }
  });

  it('is the table message handlers and queue jobs use for an HttpException', () => {
    for (let status = 100; status < 600; status++) {
      const exception = new HttpException('x', status);
      const expected = statusErrorType(status) ?? 'internal';
      expect(transportErrorType(exception)).toBe(expected);
      expect(queueErrorType(exception, undefined)).toBe(expected);
    }
  });
});
