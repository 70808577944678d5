import {
  compileFixture,
  startFixture,
  type CompiledFixture,
} from './fixtures/graphql-child.js';
import {
  describeHttpOperations,
  type MakeGraphqlApp,
} from './fixtures/graphql-cases.js';
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
