import 'reflect-metadata';
import { ApolloDriver, type ApolloDriverConfig } from '@nestjs/apollo';
import { GraphQLModule } from '@nestjs/graphql';
import { MetricsModule } from '../lib/index.js';
import { createApp, type AdapterName } from './helpers/create-app.js';
import { find, type Sample } from './helpers/metrics-text.js';
import {
  GraphqlWsClient,
  listeningTarget,
  type GraphqlTarget,
} from './fixtures/graphql-clients.js';
import {
  compileFixture,
  startFixture,
  type CompiledFixture,
} from './fixtures/graphql-child.js';
import { requests } from './fixtures/graphql-cases.js';
import {
  HandlerLabelsFixtureModule,
  LABELLED,
  PLAIN,
} from './fixtures/graphql-handler-labels.fixtures.js';

/** Boots an app serving the fixture resolvers, with a `handlerLabels` metric when `on`. */
type MakeApp = (on: boolean) => Promise<GraphqlTarget>;

const apollo =
  (adapter: AdapterName): MakeApp =>
  async (on) =>
    listeningTarget(
      await createApp(
        {
          imports: [
            MetricsModule.forRoot({ defaultMetrics: false }),
            GraphQLModule.forRoot<ApolloDriverConfig>({
              driver: ApolloDriver,
              autoSchemaFile: true,
              graphiql: false,
              subscriptions: { 'graphql-ws': true },
            }),
            HandlerLabelsFixtureModule.register(on),
          ],
        },
        undefined,
        adapter,
      ),
    );

// Mercurius runs as its own process (see test/graphql-mercurius.e2e-spec.ts).
let mercuriusFixture: CompiledFixture | undefined;
const mercurius: MakeApp = (on) => {
  mercuriusFixture ??= compileFixture(
    'test/fixtures/graphql-handler-labels.app.ts',
  );
  return startFixture(
    mercuriusFixture,
    { defaultMetrics: false },
    { GRAPHQL_HANDLER_LABELS: on ? 'on' : 'off' },
  );
};
afterAll(() => mercuriusFixture?.remove());

/** `[kind, transport, route, value]` of every series of `name`, sorted. */
function series(
  samples: Sample[],
  name: string,
): [string, string, string, number][] {
  return find(samples, name)
    .map((s): [string, string, string, number] => [
      s.labels.kind,
      s.labels.transport,
      s.labels.route,
      s.value,
    ])
    .sort((a, b) => a.join(' ').localeCompare(b.join(' ')));
}

async function answer(app: GraphqlTarget, query: string): Promise<unknown> {
  const { status, json } = await app.post({ query });
  expect(status).toBe(200);
  expect(json.errors).toBeUndefined();
  return json.data;
}

const TARGETS: [string, MakeApp][] = [
  ['Apollo Server on express', apollo('express')],
  ['Apollo Server on fastify', apollo('fastify')],
  ['Mercurius on fastify', mercurius],
];

describe.each(TARGETS)(
  'handler labels in GraphQL resolvers (%s)',
  (_, makeApp) => {
    let app: GraphqlTarget | undefined;
    afterEach(async () => {
      await app?.close();
      app = undefined;
    });

    it('labels observations of queries, mutations and field resolvers with graphql and the operation name', async () => {
      app = await makeApp(true);
      for (let i = 0; i < 3; i++)
        // Read after an await in the resolver: the operation, not the HTTP request carrying it.
        expect(await answer(app, 'query Weigh { weigh }')).toEqual({
          weigh: 'graphql:Weigh',
        });
      expect(await answer(app, '{ weigh }')).toEqual({
        weigh: 'graphql:_anonymous',
      });
      for (let i = 0; i < 2; i++)
        expect(await answer(app, 'mutation Store { store }')).toEqual({
          store: 'graphql:Store',
        });
      expect(await answer(app, 'query Shelf { shelf { id label } }')).toEqual({
        shelf: { id: 1, label: 'graphql:Shelf' },
      });
      const samples = await app.scrape();
      expect(series(samples, LABELLED)).toEqual([
        ['field', 'graphql', 'Shelf', 1],
        ['mutation', 'graphql', 'Store', 2],
        ['query', 'graphql', '_anonymous', 1],
        ['query', 'graphql', 'Weigh', 3],
        ['startup', 'none', 'none', 1],
      ]);
      // The same route values as the request families.
      expect(requests(samples, { method: 'query', route: 'Weigh' })).toBe(3);
      expect(requests(samples, { method: 'query', route: '_anonymous' })).toBe(
        1,
      );
      expect(requests(samples, { method: 'mutation', route: 'Store' })).toBe(2);
      // A metric without handler labels gets none.
      expect(find(samples, PLAIN).map((s) => [s.labels, s.value])).toEqual([
        [{ kind: 'query' }, 4],
        [{ kind: 'mutation' }, 2],
        [{ kind: 'field' }, 1],
      ]);
    });

    it('labels the subscribe call and the code of its event stream with the subscription name', async () => {
      app = await makeApp(true);
      const client = await GraphqlWsClient.connect(app.wsUrl);
      try {
        const id = client.subscribe({ query: 'subscription Ticks { ticks }' });
        await client.waitFor((m) => m.type === 'complete' && m.id === id);
        expect(
          client.messages
            .filter((m) => m.type === 'next')
            .map((m) => m.payload),
        ).toEqual([
          { data: { ticks: 'graphql:Ticks' } },
          { data: { ticks: 'graphql:Ticks' } },
        ]);
      } finally {
        await client.close();
      }
      expect(series(await app.scrape(), LABELLED)).toEqual([
        ['event', 'graphql', 'Ticks', 2],
        ['startup', 'none', 'none', 1],
        ['subscribe', 'graphql', 'Ticks', 1],
      ]);
    });

    it('enters no context while no metric asks for handler labels', async () => {
      app = await makeApp(false);
      for (let i = 0; i < 2; i++)
        // Neither the HTTP request nor the operation entered a context.
        expect(await answer(app, 'query Weigh { weigh }')).toEqual({
          weigh: 'none:none',
        });
      const samples = await app.scrape();
      expect(find(samples, LABELLED)).toEqual([]);
      expect(find(samples, PLAIN).map((s) => [s.labels, s.value])).toEqual([
        [{ kind: 'query' }, 2],
      ]);
      expect(requests(samples, { method: 'query', route: 'Weigh' })).toBe(2);
    });
  },
);
