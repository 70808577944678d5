import 'reflect-metadata';
import {
  All,
  Controller,
  Get,
  Module,
  RequestMethod,
  type INestApplication,
  type MiddlewareConsumer,
  type NestModule,
} from '@nestjs/common';
import type { IncomingMessage, ServerResponse } from 'node:http';
import request from 'supertest';
import { MetricsModule } from '../lib/index.js';
import { ADAPTERS, createApp, type AdapterName } from './helpers/create-app.js';
import { CaptureLogger } from './helpers/capture-logger.js';
import { eventually, scrape, sum } from './helpers/metrics-text.js';

/** Marks each response it sees, and lets the request through, as a request logger does. */
function tagging(header: string) {
  return function tag(
    _req: IncomingMessage,
    res: ServerResponse,
    next: () => void,
  ) {
    res.setHeader(header, 'seen');
    next();
  };
}

@Controller('hello')
class HelloController {
  @Get()
  hello() {
    return 'hello';
  }
}

/** Marks each response, and answers 429 itself to a request with `x-deny`, as a rate limiter does. */
function limiting(req: IncomingMessage, res: ServerResponse, next: () => void) {
  res.setHeader('x-every-route', 'seen');
  if (req.headers['x-deny'] === undefined) return next();
  res.statusCode = 429;
  res.end('slow down');
}

/**
 * Middleware for every path: `forRoutes('*')`, and the route `{ path: '*', method: ALL }`, which
 * is nestjs-pino's `LoggerModule.forRoot()` default (on Express, Nest mounts it as a route).
 */
@Module({ controllers: [HelloController] })
class EveryPathModule implements NestModule {
  configure(consumer: MiddlewareConsumer) {
    consumer.apply(tagging('x-every-path')).forRoutes('*');
    consumer
      .apply(limiting)
      .forRoutes({ path: '*', method: RequestMethod.ALL });
  }
}

/** A middleware for GET requests at exactly the metrics path. */
@Module({})
class MetricsPathGetModule implements NestModule {
  configure(consumer: MiddlewareConsumer) {
    consumer
      .apply(tagging('x-metrics-get'))
      .forRoutes({ path: 'metrics', method: RequestMethod.GET });
  }
}

@Controller()
class CatchAllController {
  @All('*')
  any() {
    return 'catch-all';
  }
}

async function start(
  adapter: AdapterName,
  imports: NonNullable<Parameters<typeof createApp>[0]['imports']>,
  controllers: NonNullable<Parameters<typeof createApp>[0]['controllers']> = [],
  configure?: (app: INestApplication) => void,
): Promise<{ app: INestApplication; logger: CaptureLogger }> {
  const logger = new CaptureLogger();
  const app = await createApp(
    { imports: [MetricsModule.forRoot(), ...imports], controllers },
    configure,
    adapter,
    { logger },
  );
  return { app, logger };
}

describe.each(ADAPTERS)('Middleware at the metrics path (%s)', (adapter) => {
  it('serves /metrics through Nest middleware for every path and an app.use() middleware, without a warning', async () => {
    const { app, logger } = await start(adapter, [EveryPathModule], [], (a) =>
      a.use(tagging('x-app-use')),
    );
    try {
      const response = await request(app.getHttpServer())
        .get('/metrics')
        .expect(200);
      expect(response.text).toMatch(/^# HELP /m);
      // Each middleware ran for the metrics path: they apply there, and do not take it.
      expect(response.headers['x-every-path']).toBe('seen');
      expect(response.headers['x-every-route']).toBe('seen');
      expect(response.headers['x-app-use']).toBe('seen');
      const summary = await request(app.getHttpServer())
        .get('/metrics/summary')
        .expect(200);
      expect(summary.headers['content-type']).toMatch(/^application\/json/);
      expect(logger.matching(/is not served/)).toEqual([]);
      expect(
        logger.matching(/Serving \/metrics on the app's HTTP server/),
      ).toHaveLength(1);

      // The middleware's path is no route: a request it lets through or answers itself gets the
      // template of the route it was addressed to, or UNMATCHED.
      const server = app.getHttpServer();
      await request(server).get('/hello').expect(200, 'hello');
      await request(server).get('/hello').set('x-deny', '1').expect(429);
      await request(server).get('/nowhere').expect(404);
      await request(server).get('/nowhere').set('x-deny', '1').expect(429);
      await eventually(async () => {
        const samples = await scrape(app);
        const count = (route: string, status: string) =>
          sum(samples, 'requests_total', { route, status });
        expect(count('/hello', '200')).toBe(1);
        expect(count('/hello', '429')).toBe(1);
        expect(count('UNMATCHED', '404')).toBe(1);
        expect(count('UNMATCHED', '429')).toBe(1);
        expect(sum(samples, 'requests_total')).toBe(4);
      });
    } finally {
      await app.close();
    }
  });

  it('serves /metrics through a Nest middleware for GET at exactly that path, without a warning', async () => {
    const { app, logger } = await start(adapter, [MetricsPathGetModule]);
    try {
      const response = await request(app.getHttpServer())
        .get('/metrics')
        .expect(200);
      expect(response.text).toMatch(/^# HELP /m);
      expect(response.headers['x-metrics-get']).toBe('seen');
      expect(logger.matching(/is not served/)).toEqual([]);
    } finally {
      await app.close();
    }
  });

  it('still lets an @All() catch-all controller route take /metrics where the router prefers it', async () => {
    const { app, logger } = await start(
      adapter,
      [EveryPathModule],
      [CatchAllController],
    );
    try {
      const response = await request(app.getHttpServer()).get('/metrics');
      if (adapter === 'express') {
        // Express tries the app's routes first: the catch-all answers, and the start-up says so.
        expect(response.text).toBe('catch-all');
        expect(
          logger.matching(
            /^The metrics path \/metrics is not served: the app has a GET route there\.$/,
          ),
        ).toHaveLength(1);
        expect(logger.matching(/Serving \/metrics/)).toEqual([]);
      } else {
        // Fastify's router prefers the static metrics route to the wildcard.
        expect(response.text).toMatch(/^# HELP /m);
        expect(logger.matching(/is not served/)).toEqual([]);
      }
    } finally {
      await app.close();
    }
  });

  it('still lets a GET route added on the adapter take /metrics, with the warning', async () => {
    const { app, logger } = await start(adapter, [EveryPathModule], [], (a) => {
      const http = a.getHttpAdapter();
      http.get('/metrics', (_req: unknown, res: unknown) =>
        http.reply(res, 'adapter route', 200),
      );
    });
    try {
      const response = await request(app.getHttpServer()).get('/metrics');
      expect(response.text).toBe('adapter route');
      expect(
        logger.matching(
          /^The metrics path \/metrics is not served: the app has a GET route there\.$/,
        ),
      ).toHaveLength(1);
      expect(logger.matching(/Serving \/metrics/)).toEqual([]);
    } finally {
      await app.close();
    }
  });
});
