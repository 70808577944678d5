import 'reflect-metadata';
import { ApolloDriver, type ApolloDriverConfig } from '@nestjs/apollo';
import { GraphQLModule } from '@nestjs/graphql';
import { MetricsModule, UNMATCHED_ROUTE } from '../lib/index.js';
import { ADAPTERS, createApp, type AdapterName } from './helpers/create-app.js';
import { BooksResolver } from './fixtures/graphql.fixtures.js';
import {
  GraphqlWsClient,
  listeningTarget,
  requestBytesOf,
  type GraphqlTarget,
} from './fixtures/graphql-clients.js';
import request from 'supertest';
import { eventually, scrape, sum } from './helpers/metrics-text.js';
import { HttpFixtureModule } from './fixtures/http-fixture.module.js';
import {
  describeHttpOperations,
  errors,
  inFlight,
  requests,
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
              driver: ApolloDriver,
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

describe('GraphQL over graphql-ws on Apollo Server: what only the websocket does', () => {
  let target: GraphqlTarget | undefined;
  const clients: GraphqlWsClient[] = [];
  afterEach(async () => {
    for (const client of clients.splice(0)) client.terminate();
    await target?.close();
    target = undefined;
  });

  it('counts a subscribe that does not parse as a subscription with error_type deserialization', async () => {
    target = await makeApp('express')();
    const client = await GraphqlWsClient.connect(target.wsUrl);
    clients.push(client);
    client.subscribe({ query: 'subscription OnBook {' });
    await new Promise<void>((resolve) => client.socket.once('close', resolve));
    await eventually(async () => {
      const samples = await target!.scrape();
      expect(
        errors(samples, {
          method: 'subscription',
          route: '_anonymous',
          error_type: 'deserialization',
        }),
      ).toBe(1);
      expect(requests(samples, {})).toBe(1);
      expect(inFlight(samples)).toEqual([0]);
    });
  });

  it('counts a query sent over the websocket as a query, with the bytes of its result', async () => {
    target = await makeApp('express')();
    const client = await GraphqlWsClient.connect(target.wsUrl);
    clients.push(client);
    const body = { query: 'query Greet { hello }' };
    client.subscribe(body);
    const [next] = await client.waitFor((m) => m.type === 'next');
    await eventually(async () => {
      const samples = await target!.scrape();
      expect(
        requests(samples, { method: 'query', route: 'Greet', status: 'ok' }),
      ).toBe(1);
      expect(
        sum(samples, 'request_bytes_total', { transport: 'graphql' }),
      ).toBe(requestBytesOf(body));
      expect(
        sum(samples, 'response_bytes_total', { transport: 'graphql' }),
      ).toBe(Buffer.byteLength(JSON.stringify(next.payload)));
      expect(inFlight(samples)).toEqual([0]);
    });
  });
});

describe('An app without GraphQL', () => {
  it('exports no graphql series', async () => {
    const app = await createApp({
      imports: [MetricsModule.forRoot(), HttpFixtureModule],
    });
    try {
      await request(app.getHttpServer()).get('/items').expect(200);
      const samples = await scrape(app);
      expect(samples.some((s) => s.labels.transport === 'http')).toBe(true);
      expect(samples.filter((s) => s.labels.transport === 'graphql')).toEqual(
        [],
      );
    } finally {
      await app.close();
    }
  });
});

describe('Two GraphQL apps in one process', () => {
  it('each counts its own operations', async () => {
    const first = await makeApp('express')();
    const second = await makeApp('fastify')();
    try {
      await first.post({ query: 'query One { hello }' });
      for (let i = 0; i < 2; i++)
        await second.post({ query: 'query Two { hello }' });
      const [a, b] = [await first.scrape(), await second.scrape()];
      expect(requests(a, { route: 'One' })).toBe(1);
      expect(requests(a, { route: 'Two' })).toBe(0);
      expect(requests(b, { route: 'Two' })).toBe(2);
      expect(requests(b, { route: 'One' })).toBe(0);
    } finally {
      await first.close();
      await second.close();
    }
  });
});

describe('GraphQLModule imported before a non-global metrics module', () => {
  it('still has its operations measured', async () => {
    const target = await listeningTarget(
      await createApp({
        imports: [
          GraphQLModule.forRoot<ApolloDriverConfig>({
            driver: ApolloDriver,
            autoSchemaFile: true,
            graphiql: false,
          }),
          MetricsModule.forRoot({ isGlobal: false }),
        ],
        providers: [BooksResolver],
      }),
    );
    try {
      await target.post({ query: 'query Late { hello }' });
      expect(requests(await target.scrape(), { route: 'Late' })).toBe(1);
    } finally {
      await target.close();
    }
  });
});
