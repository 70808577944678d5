import {
  compileFixture,
  startFixture,
  type CompiledFixture,
} from './fixtures/graphql-child.js';
import {
  describeHttpOperations,
  errors,
  inFlight,
  type MakeGraphqlApp,
} from './fixtures/graphql-cases.js';
import { GraphqlWsClient } from './fixtures/graphql-clients.js';
import { eventually } from './helpers/metrics-text.js';
import { describeSubscriptions } from './fixtures/graphql-subscription-cases.js';

// Mercurius (through @fastify/static) loads ES-only packages that jest's module runtime cannot
// require, so the app runs as its own Node process, compiled from
// test/fixtures/graphql-mercurius.app.ts; the tests reach it over real sockets.
let fixture: CompiledFixture;
beforeAll(() => {
  fixture = compileFixture('test/fixtures/graphql-mercurius.app.ts');
}, 60_000);
afterAll(() => fixture?.remove());

const makeApp: MakeGraphqlApp = (metricsOptions = {}) =>
  startFixture(fixture, metricsOptions);

describe('GraphQL operations on Mercurius (Fastify)', () => {
  describeHttpOperations(makeApp, {
    trailingNewline: false,
    httpRoute: '/graphql',
  });
});

describe('GraphQL subscriptions on Mercurius', () => {
  describeSubscriptions(makeApp);
});

describe('GraphQL subscriptions on Mercurius: a subscribe refused before its resolver ran', () => {
  it('is in flight until its connection closes, then counted as aborted', async () => {
    const target = await makeApp();
    const client = await GraphqlWsClient.connect(target.wsUrl);
    try {
      client.subscribe({ query: 'subscription Nope { nothing }' });
      await client.waitFor((m) => m.type === 'error');
      expect(inFlight(await target.scrape())).toEqual([1]);
      await client.close();
      await eventually(async () => {
        const samples = await target.scrape();
        expect(
          errors(samples, {
            method: 'subscription',
            route: 'Nope',
            error_type: 'aborted',
          }),
        ).toBe(1);
        expect(inFlight(samples)).toEqual([0]);
      });
    } finally {
      client.terminate();
      await target.close();
    }
  });
});
