import { Test } from '@nestjs/testing';
import type { INestApplication, ModuleMetadata } from '@nestjs/common';
import { FastifyAdapter } from '@nestjs/platform-fastify';

/** The HTTP adapters every HTTP test runs on. */
export const ADAPTERS = ['express', 'fastify'] as const;
export type AdapterName = (typeof ADAPTERS)[number];

/**
 * Boots a real Nest app from the given module metadata, logger off, on Express (default) or
 * Fastify. A Fastify app is made ready, so that its server answers without `listen()`.
 */
export async function createApp(
  metadata: ModuleMetadata,
  configure?: (app: INestApplication) => void,
  adapter: AdapterName = 'express',
): Promise<INestApplication> {
  const moduleRef = await Test.createTestingModule(metadata).compile();
  const app =
    adapter === 'fastify'
      ? moduleRef.createNestApplication(new FastifyAdapter(), {
          logger: false,
        })
      : moduleRef.createNestApplication({ logger: false });
  configure?.(app);
  await app.init();
  if (adapter === 'fastify')
    await (
      app.getHttpAdapter().getInstance() as { ready(): Promise<unknown> }
    ).ready();
  return app;
}
