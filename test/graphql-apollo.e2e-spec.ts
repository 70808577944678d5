import 'reflect-metadata';
import type { ApolloDriverConfig } from '@nestjs/apollo';
import { GraphQLModule } from '@nestjs/graphql';
import { MetricsModule, UNMATCHED_ROUTE } from '../lib/index.js';
import { ADAPTERS, createApp, type AdapterName } from './helpers/create-app.js';
import { BooksResolver } from './fixtures/graphql.fixtures.js';
import { ApolloTestDriver } from './fixtures/graphql-apollo.driver.js';
import { listeningTarget } from './fixtures/graphql-clients.js';
import {
  describeHttpOperations,
  type MakeGraphqlApp,
} from './fixtures/graphql-cases.js';
import { describeSubscriptions } from './fixtures/graphql-subscription-cases.js';

const makeApp =
  (adapter: AdapterName): MakeGraphqlApp =>
  async (metricsOptions = {}) =>
    listeningTarget(
      await createApp(
        {
          imports: [
            MetricsModule.forRoot(metricsOptions),
            GraphQLModule.forRoot<ApolloDriverConfig>({
              driver: ApolloTestDriver,
              autoSchemaFile: true,
              graphiql: false,
              subscriptions: { 'graphql-ws': true },
            }),
          ],
          providers: [BooksResolver],
        },
        undefined,
        adapter,
      ),
    );

describe.each(ADAPTERS)(
  'GraphQL operations on Apollo Server (%s)',
  (adapter) => {
    describeHttpOperations(makeApp(adapter), {
      trailingNewline: true,
      httpRoute: adapter === 'express' ? UNMATCHED_ROUTE : '/graphql',
    });
  },
);

describe.each(ADAPTERS)(
  'GraphQL subscriptions on Apollo Server (%s, graphql-ws)',
  (adapter) => {
    describeSubscriptions(makeApp(adapter));
  },
);
