import {
  BadRequestException,
  ConflictException,
  NotFoundException,
} from '@nestjs/common';
import { GraphQLError, parse, validate, buildSchema } from 'graphql';
import { graphqlErrorType } from './graphql-error-type.js';
import { operationOf } from './graphql-instrumentation.js';

const schema = buildSchema('type Query { hello: String }');

function syntaxError(): unknown {
  try {
    parse('{ hello');
  } catch (error) {
    return error;
  }
  throw new Error('parsed');
}

describe('graphqlErrorType', () => {
  it('maps graphql-js syntax and validation errors', () => {
    expect(graphqlErrorType(syntaxError())).toBe('deserialization');
    const [invalid] = validate(schema, parse('{ nope }'));
    expect(graphqlErrorType(invalid)).toBe('validation');
  });

  it("maps Apollo's request error codes", () => {
    const coded = (code: string) =>
      new GraphQLError('x', { extensions: { code } });
    expect(graphqlErrorType(coded('GRAPHQL_PARSE_FAILED'))).toBe(
      'deserialization',
    );
    expect(graphqlErrorType(coded('GRAPHQL_VALIDATION_FAILED'))).toBe(
      'validation',
    );
    expect(graphqlErrorType(coded('OPERATION_RESOLUTION_FAILURE'))).toBe(
      'validation',
    );
  });

  it("reads Mercurius' wrapper of a refused document", () => {
    const refused = Object.assign(new Error('Graphql validation error'), {
      errors: [syntaxError()],
    });
    expect(
      graphqlErrorType(new GraphQLError('x', { originalError: refused })),
    ).toBe('deserialization');
    const invalid = Object.assign(new Error('Graphql validation error'), {
      errors: validate(schema, parse('{ nope }')),
    });
    expect(
      graphqlErrorType(new GraphQLError('x', { originalError: invalid })),
    ).toBe('validation');
  });

  it('maps what a resolver threw: an HttpException by its status, anything else internal', () => {
    const thrown = (error: Error) =>
      new GraphQLError(error.message, { originalError: error, path: ['a'] });
    expect(graphqlErrorType(thrown(new NotFoundException()))).toBe('not_found');
    expect(graphqlErrorType(thrown(new BadRequestException()))).toBe(
      'validation',
    );
    expect(graphqlErrorType(thrown(new ConflictException()))).toBe(
      'client_error',
    );
    expect(graphqlErrorType(thrown(new Error('boom')))).toBe('internal');
    // Wrapped twice (Apollo wraps graphql-js' located error).
    const twice = new GraphQLError('x', {
      originalError: thrown(new NotFoundException()),
      path: ['a'],
    });
    expect(graphqlErrorType(twice)).toBe('not_found');
  });
});

describe('operationOf', () => {
  it('reads the type and name of the operation a document runs', () => {
    const document = parse('query A { hello } mutation B { hello }');
    expect(operationOf(document, 'B', 'query')).toEqual({
      kind: 'mutation',
      name: 'B',
    });
    expect(operationOf(parse('{ hello }'), undefined, 'query')).toEqual({
      kind: 'query',
      name: '_anonymous',
    });
  });

  it('names an unparsed operation by a requested name only when it is a GraphQL name', () => {
    expect(operationOf(undefined, 'Broken', 'query')).toEqual({
      kind: 'query',
      name: 'Broken',
    });
    expect(operationOf(undefined, 'not a name', 'subscription')).toEqual({
      kind: 'subscription',
      name: '_anonymous',
    });
  });
});
