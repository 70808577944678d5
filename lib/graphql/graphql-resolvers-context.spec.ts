import {
  GraphQLObjectType,
  GraphQLSchema,
  GraphQLString,
  graphql,
  parse,
  subscribe,
} from 'graphql';
import { RequestMetrics } from '../recorder/request-metrics.js';
import {
  currentHandler,
  HandlerContextSwitch,
} from '../context/handler-context.js';
import { OVERFLOW_LABEL_VALUE } from '../metrics.constants.js';
import { GraphqlInstrumentation } from './graphql-instrumentation.js';
import { runResolversInOperationContext } from './graphql-resolvers-context.js';

const where = () => {
  const handler = currentHandler();
  return handler === undefined
    ? 'none'
    : `${handler.transport}:${handler.route}`;
};

function setUp(maxSeries?: number) {
  const metrics = new RequestMetrics('', [1], maxSeries);
  const instrumentation = new GraphqlInstrumentation(metrics);
  const contextSwitch = new HandlerContextSwitch();
  const returned: string[] = [];
  const schema = new GraphQLSchema({
    query: new GraphQLObjectType({
      name: 'Query',
      fields: {
        where: { type: GraphQLString, resolve: async () => where() },
        fails: {
          type: GraphQLString,
          resolve: () => {
            throw new RangeError('as it is');
          },
        },
      },
    }),
    subscription: new GraphQLObjectType({
      name: 'Subscription',
      fields: {
        events: {
          type: GraphQLString,
          subscribe: () => ({
            [Symbol.asyncIterator]() {
              return {
                next: () => Promise.resolve({ value: where(), done: false }),
                return: () => {
                  returned.push(where());
                  return Promise.resolve({ value: undefined, done: true });
                },
              };
            },
          }),
          resolve: (value: unknown) => `${String(value)}/${where()}`,
        },
      },
    }),
  });
  runResolversInOperationContext(schema, instrumentation, contextSwitch);
  return { metrics, instrumentation, contextSwitch, schema, returned };
}

describe('runResolversInOperationContext', () => {
  it('calls the resolvers as they are while the switch is off', async () => {
    const { schema } = setUp();
    expect(await graphql({ schema, source: 'query A { where }' })).toEqual({
      data: { where: 'none' },
    });
  });

  it('runs them in the operation, under the route operationEnded records', async () => {
    const { schema, contextSwitch, metrics, instrumentation } = setUp();
    contextSwitch.on = true;
    expect(await graphql({ schema, source: 'query A { where }' })).toEqual({
      data: { where: 'graphql:A' },
    });
    expect(await graphql({ schema, source: '{ where }' })).toEqual({
      data: { where: 'graphql:_anonymous' },
    });
    const operation = instrumentation.operationStarted('', null, 'B');
    const document = parse('query A { where } query B { where }');
    expect(
      await graphql({
        schema,
        source: 'query A { where } query B { where }',
        operationName: 'B',
      }),
    ).toEqual({ data: { where: 'graphql:B' } });
    instrumentation.operationEnded(operation, { document, responseBytes: 0 });
    expect(metrics.allRoutes().map((r) => [r.method, r.route])).toEqual([
      ['query', 'A'],
      ['query', '_anonymous'],
      ['query', 'B'],
    ]);
  });

  it('reads OVERFLOW beyond maxSeries, as the request families do', async () => {
    const { schema, contextSwitch } = setUp(1);
    contextSwitch.on = true;
    await graphql({ schema, source: 'query A { where }' });
    expect(await graphql({ schema, source: 'query B { where }' })).toEqual({
      data: { where: `graphql:${OVERFLOW_LABEL_VALUE}` },
    });
  });

  it('rethrows what a resolver throws unchanged, and wraps a schema once', async () => {
    const { schema, contextSwitch, instrumentation } = setUp();
    contextSwitch.on = true;
    const field = schema.getQueryType()!.getFields().where;
    const resolve = field.resolve;
    runResolversInOperationContext(schema, instrumentation, contextSwitch);
    expect(field.resolve).toBe(resolve);
    const result = await graphql({ schema, source: 'query F { fails }' });
    expect(result.errors?.[0].originalError).toBeInstanceOf(RangeError);
    expect(result.errors?.[0].message).toBe('as it is');
  });

  it('runs the event stream, its resolve and its return() in the subscription', async () => {
    const { schema, contextSwitch, returned } = setUp();
    contextSwitch.on = true;
    const stream = (await subscribe({
      schema,
      document: parse('subscription S { events }'),
    })) as AsyncIterableIterator<unknown>;
    expect(await stream.next()).toEqual({
      value: { data: { events: 'graphql:S/graphql:S' } },
      done: false,
    });
    await stream.return!();
    expect(returned).toEqual(['graphql:S']);
  });
});
