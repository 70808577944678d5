import 'reflect-metadata';
import {
  Controller,
  Get,
  HttpException,
  NotFoundException,
  Post,
  VersioningType,
  type CallHandler,
  type ExecutionContext,
  Injectable,
  Param,
  Res,
  type INestApplication,
  type ModuleMetadata,
} from '@nestjs/common';
import type { ServerResponse } from 'node:http';
import request from 'supertest';
import {
  MetricsInterceptor,
  MetricsModule,
  type ExchangeOutcome,
} from '../lib/index.js';
import { ADAPTERS, createApp, type AdapterName } from './helpers/create-app.js';
import { CaptureLogger } from './helpers/capture-logger.js';
import { eventually, scrape, sum } from './helpers/metrics-text.js';
import { freePort } from './helpers/free-port.js';
import { connect } from 'node:net';

@Controller({ path: 'health', version: '1' })
class HealthController {
  @Get()
  health() {
    return { status: 'up' };
  }
}

@Controller('users')
class UsersController {
  @Get(':id')
  get(@Param('id') id: string) {
    return { id };
  }
}

@Controller()
class PagesController {
  @Get(':slug')
  page(@Param('slug') slug: string) {
    return `page ${slug}`;
  }
}

@Controller('metrics')
class AppMetricsController {
  @Get()
  mine() {
    return 'app route';
  }
}

async function start(
  metadata: ModuleMetadata,
  adapter: AdapterName,
  configure?: (app: INestApplication) => void,
): Promise<{ app: INestApplication; logger: CaptureLogger }> {
  const logger = new CaptureLogger();
  const app = await createApp(metadata, configure, adapter, { logger });
  return { app, logger };
}

describe.each(ADAPTERS)('Start-up checks (%s)', (adapter) => {
  it('warns for each excludePaths entry that matches no route template, after prefix and versioning', async () => {
    const { app, logger } = await start(
      {
        imports: [
          MetricsModule.forRoot({
            excludePaths: [
              '/health',
              '/users/7',
              '/api/v1/health',
              '/api/users/:id',
              '/api/orders/:id',
            ],
          }),
        ],
        controllers: [HealthController, UsersController],
      },
      adapter,
      (app) => {
        app.setGlobalPrefix('api');
        app.enableVersioning({ type: VersioningType.URI });
      },
    );
    try {
      const warnings = logger
        .matching(/excludePaths entry/)
        .map((line) => line.message);
      expect(warnings).toHaveLength(3);
      expect(warnings[0]).toMatch(
        /entry \/health matches no route of the app, so it only excludes requests whose path is exactly \/health/,
      );
      expect(warnings[1]).toMatch(
        /entry \/users\/7 matches no route of the app, so it only excludes requests whose path is exactly \/users\/7/,
      );
      expect(warnings[2]).toMatch(
        /entry \/api\/orders\/:id matches no route of the app, so it excludes nothing/,
      );
      // What the warning says of a plain path holds: a request for exactly that path is left out.
      await request(app.getHttpServer()).get('/users/7').expect(404);
      await request(app.getHttpServer()).get('/users/8').expect(404);
      await eventually(async () =>
        expect(
          sum(await scrape(app), 'requests_total', { route: 'UNMATCHED' }),
        ).toBe(1),
      );
      expect(logger.matching(/excludePaths entry/)[0].level).toBe('warn');
    } finally {
      await app.close();
    }
  });

  it('warns that an app GET route at the metrics path shadows the endpoint, and the app route answers', async () => {
    const { app, logger } = await start(
      {
        imports: [MetricsModule.forRoot()],
        controllers: [AppMetricsController],
      },
      adapter,
    );
    try {
      expect(
        logger.matching(
          /metrics path \/metrics is not served: the app has a GET route there/,
        ),
      ).toHaveLength(1);
      const response = await request(app.getHttpServer()).get('/metrics');
      expect(response.text).toBe('app route');
      expect(logger.matching(/Serving \/metrics/)).toEqual([]);
    } finally {
      await app.close();
    }
  });

  it('tells whether a parameterised app route at the root takes the metrics path', async () => {
    const { app, logger } = await start(
      {
        imports: [MetricsModule.forRoot()],
        controllers: [PagesController],
      },
      adapter,
    );
    try {
      const response = await request(app.getHttpServer()).get('/metrics');
      if (adapter === 'express') {
        // Express tries the app's routes first: /:slug answers, and the start-up says so.
        expect(response.text).toBe('page metrics');
        expect(
          logger.matching(
            /metrics path \/metrics is not served: the app has a GET route there/,
          ),
        ).toHaveLength(1);
        expect(logger.matching(/Serving \/metrics/)).toEqual([]);
      } else {
        // Fastify's router prefers the static metrics route to /:slug.
        expect(response.text).toMatch(/^# HELP /m);
        expect(logger.matching(/is not served/)).toEqual([]);
        expect(
          logger.matching(/Serving \/metrics on the app's HTTP server/),
        ).toHaveLength(1);
      }
    } finally {
      await app.close();
    }
  });

  it("logs once where metrics are served: the app's HTTP server", async () => {
    const { app, logger } = await start(
      { imports: [MetricsModule.forRoot({ path: '/stats' })] },
      adapter,
    );
    try {
      expect(
        logger.matching(/Serving \/stats on the app's HTTP server/),
      ).toHaveLength(1);
      expect(logger.matching(/Serving/)).toHaveLength(1);
    } finally {
      await app.close();
    }
  });

  it('logs once where metrics are served: the metrics port', async () => {
    const port = await freePort();
    const { app, logger } = await start(
      { imports: [MetricsModule.forRoot({ port, host: '127.0.0.1' })] },
      adapter,
    );
    try {
      expect(logger.matching(/Serving/).map((l) => l.message)).toEqual([
        `Serving /metrics on port ${port}`,
      ]);
    } finally {
      await app.close();
    }
  });
});

/** Unwraps a `NotFoundException` carried as the cause of the error a route threw. */
@Injectable()
class UnwrappingInterceptor extends MetricsInterceptor {
  protected override onError(
    exchange: ExchangeOutcome,
    error: unknown,
    context: ExecutionContext,
  ): void {
    const cause = (error as { cause?: unknown }).cause;
    super.onError(
      exchange,
      cause instanceof NotFoundException ? cause : error,
      context,
    );
  }
  override intercept(context: ExecutionContext, next: CallHandler) {
    return super.intercept(context, next);
  }
}

@Controller('orders')
class OrdersController {
  @Post()
  create() {
    throw new HttpException('order exists', 409, {
      cause: new NotFoundException('customer'),
    });
  }

  @Get('stream')
  stream(
    @Res() reply: ServerResponse | { raw: ServerResponse; hijack(): void },
  ) {
    let res: ServerResponse;
    if ('hijack' in reply) {
      reply.hijack();
      res = reply.raw;
    } else res = reply;
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.write('first part of the body\n');
    // The rest never comes: the client is told to go away mid-body.
    setTimeout(() => res.destroy(), 50);
  }
}

describe.each(ADAPTERS)(
  'error_type: the status sent decides (%s)',
  (adapter) => {
    it('a 409 whose unwrapped exception is a NotFoundException is client_error', async () => {
      const { app } = await start(
        {
          imports: [
            MetricsModule.forRoot({ interceptor: UnwrappingInterceptor }),
          ],
          controllers: [OrdersController],
        },
        adapter,
      );
      try {
        await request(app.getHttpServer()).post('/orders').expect(409);
        await eventually(async () => {
          const samples = await scrape(app);
          expect(
            sum(samples, 'errors_total', {
              route: '/orders',
              error_type: 'client_error',
            }),
          ).toBe(1);
          expect(
            sum(samples, 'errors_total', {
              route: '/orders',
              error_type: 'not_found',
            }),
          ).toBe(0);
        });
      } finally {
        await app.close();
      }
    });

    it('a 200 aborted mid-body keeps status="200" and counts errors_total{error_type="aborted"}', async () => {
      const { app } = await start(
        { imports: [MetricsModule.forRoot()], controllers: [OrdersController] },
        adapter,
      );
      try {
        await app.listen(0, '127.0.0.1');
        const { port } = app.getHttpServer().address() as { port: number };
        await new Promise<void>((resolve, reject) => {
          const socket = connect(port, '127.0.0.1', () =>
            socket.write('GET /orders/stream HTTP/1.1\r\nHost: x\r\n\r\n'),
          );
          socket.on('data', () => undefined);
          socket.on('close', () => resolve());
          socket.on('error', reject);
        });
        await eventually(async () => {
          const samples = await scrape(app);
          expect(
            sum(samples, 'requests_total', {
              route: '/orders/stream',
              status: '200',
            }),
          ).toBe(1);
          expect(
            sum(samples, 'errors_total', {
              route: '/orders/stream',
              error_type: 'aborted',
            }),
          ).toBe(1);
        });
      } finally {
        await app.close();
      }
    });
  },
);
