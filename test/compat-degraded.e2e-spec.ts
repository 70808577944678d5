import 'reflect-metadata';
import { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import {
  BadRequestException,
  Controller,
  Get,
  Module,
  Post,
  RequestMethod,
  type MiddlewareConsumer,
  type NestModule,
  type INestApplication,
} from '@nestjs/common';
import { ExceptionsHandler } from '@nestjs/core/exceptions/exceptions-handler.js';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import request from 'supertest';
import { MetricsModule } from '../lib/index.js';
import { forgetReportedDegradations } from '../lib/compat/degraded.js';
import { forgetRequestPushCheck } from '../lib/compat/node-http.js';
import { ADAPTERS, createApp, type AdapterName } from './helpers/create-app.js';
import { CaptureLogger } from './helpers/capture-logger.js';
import { eventually, scrape, sum } from './helpers/metrics-text.js';
import { blockMiddleware } from './fixtures/http-fixture.module.js';

@Controller()
class CompatController {
  @Get('bad')
  bad(): never {
    throw new BadRequestException('bad input');
  }

  @Get('blocked')
  blocked() {
    return 'never answered: a middleware answers first';
  }

  @Post('echo')
  echo() {
    return 'ok';
  }
}

@Module({
  imports: [MetricsModule.forRoot()],
  controllers: [CompatController],
})
class CompatModule implements NestModule {
  configure(consumer: MiddlewareConsumer) {
    consumer.apply(blockMiddleware).forRoutes('blocked');
  }
}

async function start(
  adapter: AdapterName,
  fastifyAdapter = new FastifyAdapter(),
  configure?: (app: INestApplication) => void,
): Promise<{ app: INestApplication; logger: CaptureLogger }> {
  const logger = new CaptureLogger();
  const app = await createApp({ imports: [CompatModule] }, configure, adapter, {
    logger,
    fastifyAdapter,
  });
  return { app, logger };
}

function degradedWarnings(logger: CaptureLogger, internal: RegExp) {
  return logger
    .matching(/is not as this version expects/)
    .filter((line) => internal.test(line.message));
}

/**
 * Without the internal that gives requests stopped before routing their route: the request a
 * middleware answered is UNMATCHED, while a routed request keeps its route.
 */
async function expectRouteOnlyWhereRouted(
  app: INestApplication,
): Promise<void> {
  await request(app.getHttpServer()).get('/blocked').expect(429);
  await request(app.getHttpServer()).get('/bad').expect(400);
  await eventually(async () => {
    const samples = await scrape(app);
    expect(
      sum(samples, 'requests_total', { route: 'UNMATCHED', status: '429' }),
    ).toBe(1);
    expect(
      sum(samples, 'requests_total', { route: '/bad', status: '400' }),
    ).toBe(1);
  });
}

beforeEach(() => forgetReportedDegradations());

// First in the file: once this copy of the library wrapped the method, it stays wrapped.
describe.each(ADAPTERS)(
  'Nest ExceptionsHandler.prototype.next cannot be wrapped (%s)',
  (adapter) => {
    const prototype = ExceptionsHandler.prototype as unknown as object;
    const original = Object.getOwnPropertyDescriptor(prototype, 'next')!;
    beforeEach(() =>
      Object.defineProperty(prototype, 'next', {
        ...original,
        writable: false,
      }),
    );
    afterEach(() => Object.defineProperty(prototype, 'next', original));

    it('warns once and takes error_type from the status alone', async () => {
      const { app, logger } = await start(adapter);
      try {
        expect(
          degradedWarnings(logger, /ExceptionsHandler\.prototype\.next/).map(
            (line) => line.message,
          ),
        ).toEqual([
          expect.stringMatching(
            /error_type of route exceptions from the status alone/,
          ),
        ]);
        await request(app.getHttpServer()).get('/bad').expect(400);
        await eventually(async () => {
          const samples = await scrape(app);
          expect(
            sum(samples, 'errors_total', {
              route: '/bad',
              error_type: 'client_error',
            }),
          ).toBe(1);
          expect(sum(samples, 'requests_total', { route: '/bad' })).toBe(1);
        });
      } finally {
        await app.close();
      }
    });
  },
);

describe('Fastify adapter without its request-hook slot', () => {
  it('warns once; a middleware-answered request is UNMATCHED, the rest measured as usual', async () => {
    const fastifyAdapter = new FastifyAdapter();
    Object.defineProperty(fastifyAdapter, 'setOnRequestHook', {
      value: undefined,
      configurable: true,
    });
    const { app, logger } = await start('fastify', fastifyAdapter);
    try {
      expect(
        degradedWarnings(logger, /onRequestHook/).map((line) => line.message),
      ).toEqual([
        expect.stringMatching(
          /route of requests a middleware answers on Fastify/,
        ),
      ]);
      await expectRouteOnlyWhereRouted(app);
    } finally {
      await app.close();
    }
  });

  it('with the slot, the middleware-answered request keeps its route', async () => {
    const { app, logger } = await start('fastify');
    try {
      expect(degradedWarnings(logger, /onRequestHook/)).toEqual([]);
      await request(app.getHttpServer()).get('/blocked').expect(429);
      await eventually(async () =>
        expect(
          sum(await scrape(app), 'requests_total', {
            route: '/blocked',
            status: '429',
          }),
        ).toBe(1),
      );
    } finally {
      await app.close();
    }
  });
});

describe.each(ADAPTERS)(
  'Node HTTP parser: req.push cannot be replaced (%s)',
  (adapter) => {
    const prototype = IncomingMessage.prototype as unknown as object;
    beforeEach(() => {
      forgetRequestPushCheck();
      Object.defineProperty(prototype, 'push', {
        value: Readable.prototype.push,
        writable: false,
        configurable: true,
      });
    });
    afterEach(() => {
      delete (prototype as { push?: unknown }).push;
      forgetRequestPushCheck();
    });

    it('warns once and reads request body bytes as 0; the request is measured', async () => {
      const { app, logger } = await start(adapter);
      try {
        expect(
          degradedWarnings(logger, /req\.push/).map((line) => line.message),
        ).toEqual([expect.stringMatching(/request body bytes read as 0/)]);
        await request(app.getHttpServer())
          .post('/echo')
          .set('content-type', 'text/plain')
          .send('twelve bytes')
          .expect(201);
        await eventually(async () => {
          const samples = await scrape(app);
          expect(
            sum(samples, 'requests_total', { route: '/echo', status: '201' }),
          ).toBe(1);
          expect(sum(samples, 'request_bytes_total', { route: '/echo' })).toBe(
            0,
          );
        });
      } finally {
        await app.close();
      }
    });
  },
);

/** Holds Express's layers as a list Express can still use, but that is no array. */
function arrayLikeStack(layers: unknown[]) {
  const list: Record<number, unknown> & {
    length: number;
    push(layer: unknown): number;
    [Symbol.iterator](): Iterator<unknown>;
  } = {
    length: 0,
    push(layer: unknown) {
      this[this.length++] = layer;
      return this.length;
    },
    *[Symbol.iterator]() {
      for (let i = 0; i < this.length; i++) yield this[i];
    },
  };
  for (const layer of layers) list.push(layer);
  return list;
}

describe('Express router stack not as expected', () => {
  it('warns once; routes come from req.route, a middleware-answered request is UNMATCHED', async () => {
    const { app, logger } = await start('express', undefined, (app) => {
      const router = (
        app.getHttpAdapter().getInstance() as {
          router: { stack: unknown[] | object };
        }
      ).router;
      router.stack = arrayLikeStack(router.stack as unknown[]);
    });
    try {
      expect(
        degradedWarnings(logger, /app\.router\.stack/).map(
          (line) => line.message,
        ),
      ).toEqual([
        expect.stringMatching(
          /route of requests stopped before routing .* reported as UNMATCHED/,
        ),
      ]);
      await expectRouteOnlyWhereRouted(app);
    } finally {
      await app.close();
    }
  });

  it('with the array, the middleware-answered request keeps its route', async () => {
    const { app, logger } = await start('express');
    try {
      expect(degradedWarnings(logger, /app\.router\.stack/)).toEqual([]);
      await request(app.getHttpServer()).get('/blocked').expect(429);
      await eventually(async () =>
        expect(
          sum(await scrape(app), 'requests_total', {
            route: '/blocked',
            status: '429',
          }),
        ).toBe(1),
      );
    } finally {
      await app.close();
    }
  });
});

/** A middleware for every path and method, as nestjs-pino's `LoggerModule.forRoot()` applies. */
@Module({
  imports: [MetricsModule.forRoot()],
  controllers: [CompatController],
})
class EveryPathModule implements NestModule {
  configure(consumer: MiddlewareConsumer) {
    consumer
      .apply((_req: unknown, _res: unknown, next: () => void) => next())
      .forRoutes({ path: '*', method: RequestMethod.ALL });
  }
}

describe('Express Route#stack not as expected', () => {
  it('warns once; a middleware for every path then takes the metrics path, and the app answers', async () => {
    const logger = new CaptureLogger();
    const app = await createApp(
      { imports: [EveryPathModule] },
      (app) => {
        const router = (
          app.getHttpAdapter().getInstance() as {
            router: { route(path: string): { stack: unknown } };
          }
        ).router;
        const route = router.route.bind(router);
        router.route = (path) => {
          const made = route(path);
          made.stack = arrayLikeStack(made.stack as unknown[]);
          return made;
        };
      },
      'express',
      { logger },
    );
    try {
      expect(
        degradedWarnings(logger, /Route#stack/).map((line) => line.message),
      ).toEqual([
        expect.stringMatching(
          /Nest middleware mounted as a route .* taken for an app route: the metrics and summary paths are not served/,
        ),
      ]);
      expect(
        logger.matching(
          /^The metrics path \/metrics is not served: the app has a GET route there\.$/,
        ),
      ).toHaveLength(1);
      await request(app.getHttpServer()).get('/metrics').expect(404);
      await request(app.getHttpServer()).get('/bad').expect(400);
    } finally {
      await app.close();
    }
  });
});
