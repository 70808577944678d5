import { Test } from '@nestjs/testing';
import type {
  INestApplication,
  LoggerService,
  ModuleMetadata,
} from '@nestjs/common';
import { FastifyAdapter } from '@nestjs/platform-fastify';

/** The HTTP adapters every HTTP test runs on. */
export const ADAPTERS = ['express', 'fastify'] as const;
export type AdapterName = (typeof ADAPTERS)[number];

/** What a test may change about the app `createApp` boots. */
export interface CreateAppOptions {
  /** The app's logger; default none (`false`). */
  logger?: LoggerService | false;
  /** The Fastify adapter instance to use, e.g. one a test altered; default a new one. */
  fastifyAdapter?: FastifyAdapter;
}

/**
 * Boots a real Nest app from the given module metadata, logger off, on Express (default) or
 * Fastify. A Fastify app is made ready, so that its server answers without `listen()`.
 */
export async function createApp(
  metadata: ModuleMetadata,
  configure?: (app: INestApplication) => void,
  adapter: AdapterName = 'express',
  { logger = false, fastifyAdapter }: CreateAppOptions = {},
): Promise<INestApplication> {
  const moduleRef = await Test.createTestingModule(metadata).compile();
  const app =
    adapter === 'fastify'
      ? moduleRef.createNestApplication(
          fastifyAdapter ?? new FastifyAdapter(),
          {
            logger,
          },
        )
      : moduleRef.createNestApplication({ logger });
  configure?.(app);
  await app.init();
  if (adapter === 'fastify')
    await (
      app.getHttpAdapter().getInstance() as { ready(): Promise<unknown> }
    ).ready();
  return app;
}
