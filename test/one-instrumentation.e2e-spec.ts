import 'reflect-metadata';
import { Controller, Get, Module, type ModuleMetadata } from '@nestjs/common';
import request from 'supertest';
import { MetricsModule } from '../lib/index.js';
import { ADAPTERS, createApp } from './helpers/create-app.js';
import { CaptureLogger } from './helpers/capture-logger.js';
import { eventually, scrape, sum } from './helpers/metrics-text.js';
import { Test } from '@nestjs/testing';
import { FastifyAdapter } from '@nestjs/platform-fastify';

@Controller('things')
class ThingsController {
  @Get()
  list() {
    return ['a'];
  }
}

@Module({
  imports: [MetricsModule.forRoot({ excludePaths: ['/things'] })],
})
class ExcludingFeatureModule {}

@Module({ imports: [MetricsModule.forRoot()] })
class FeatureModule {}

async function requestsOf(
  app: Awaited<ReturnType<typeof createApp>>,
  route: string,
): Promise<number> {
  return sum(await scrape(app), 'requests_total', { route });
}

describe.each(ADAPTERS)('One instrumentation per app (%s)', (adapter) => {
  it('a second identical MetricsModule.forRoot() joins the first: each request counted once', async () => {
    const app = await createApp(
      {
        imports: [MetricsModule.forRoot(), FeatureModule],
        controllers: [ThingsController],
      },
      undefined,
      adapter,
    );
    try {
      for (let i = 0; i < 3; i++)
        await request(app.getHttpServer()).get('/things').expect(200);
      await eventually(async () =>
        expect(await requestsOf(app, '/things')).toBe(3),
      );
    } finally {
      await app.close();
    }
  });

  it('forRootAsync with the same factory joins too', async () => {
    const useFactory = () => ({ prefix: 'shop_' });
    @Module({ imports: [MetricsModule.forRootAsync({ useFactory })] })
    class AsyncFeature {}
    const app = await createApp(
      {
        imports: [MetricsModule.forRootAsync({ useFactory }), AsyncFeature],
        controllers: [ThingsController],
      },
      undefined,
      adapter,
    );
    try {
      await request(app.getHttpServer()).get('/things').expect(200);
      await eventually(async () =>
        expect(
          sum(await scrape(app), 'shop_requests_total', { route: '/things' }),
        ).toBe(1),
      );
    } finally {
      await app.close();
    }
  });

  it('no warning about the metrics path when a second module joined', async () => {
    const logger = new CaptureLogger();
    const moduleRef = await Test.createTestingModule({
      imports: [MetricsModule.forRoot(), FeatureModule],
      controllers: [ThingsController],
    }).compile();
    const app =
      adapter === 'fastify'
        ? moduleRef.createNestApplication(new FastifyAdapter(), { logger })
        : moduleRef.createNestApplication({ logger });
    await app.init();
    if (adapter === 'fastify')
      await (
        app.getHttpAdapter().getInstance() as { ready(): Promise<unknown> }
      ).ready();
    try {
      await request(app.getHttpServer()).get('/things').expect(200);
      await request(app.getHttpServer()).get('/metrics').expect(200);
      expect(logger.matching(/metrics path .* is not served/)).toEqual([]);
    } finally {
      await app.close();
    }
  });

  it('a second MetricsModule with other options fails start-up naming both importers and the option', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [MetricsModule.forRoot(), ExcludingFeatureModule],
      controllers: [ThingsController],
    }).compile();
    const app =
      adapter === 'fastify'
        ? moduleRef.createNestApplication(new FastifyAdapter(), {
            logger: false,
          })
        : moduleRef.createNestApplication({ logger: false });
    try {
      await expect(app.init()).rejects.toThrow(
        /MetricsModule is imported twice.*by (RootTestModule|TestModule).* and by ExcludingFeatureModule.*"excludePaths"/s,
      );
    } finally {
      await app.close().catch(() => undefined);
    }
  });

  it('two apps with identical options each count only their own requests', async () => {
    const metadata = {
      imports: [MetricsModule.forRoot()],
      controllers: [ThingsController],
    };
    const a = await createApp(metadata, undefined, adapter);
    const b = await createApp(metadata, undefined, adapter);
    try {
      await request(a.getHttpServer()).get('/things').expect(200);
      for (let i = 0; i < 2; i++)
        await request(b.getHttpServer()).get('/things').expect(200);
      await eventually(async () => {
        expect(await requestsOf(a, '/things')).toBe(1);
        expect(await requestsOf(b, '/things')).toBe(2);
      });
    } finally {
      await a.close();
      await b.close();
    }
  });

  it.each(['reference', 'deep-hash'] as const)(
    'under the %s module-token strategy, a second identical import joins and a different one fails',
    async (moduleIdGeneratorAlgorithm) => {
      const create = async (imports: ModuleMetadata['imports']) => {
        const moduleRef = await Test.createTestingModule(
          { imports, controllers: [ThingsController] },
          { moduleIdGeneratorAlgorithm },
        ).compile();
        return adapter === 'fastify'
          ? moduleRef.createNestApplication(new FastifyAdapter(), {
              logger: false,
            })
          : moduleRef.createNestApplication({ logger: false });
      };
      const joined = await create([MetricsModule.forRoot(), FeatureModule]);
      await joined.init();
      if (adapter === 'fastify')
        await (
          joined.getHttpAdapter().getInstance() as { ready(): Promise<unknown> }
        ).ready();
      try {
        await request(joined.getHttpServer()).get('/things').expect(200);
        await eventually(async () =>
          expect(await requestsOf(joined, '/things')).toBe(1),
        );
      } finally {
        await joined.close();
      }
      const refused = await create([
        MetricsModule.forRoot(),
        ExcludingFeatureModule,
      ]);
      try {
        await expect(refused.init()).rejects.toThrow(
          /option "excludePaths" differs/,
        );
      } finally {
        await refused.close().catch(() => undefined);
      }
    },
  );
});
