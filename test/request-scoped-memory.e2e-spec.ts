import 'reflect-metadata';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Controller, Get, Inject, Injectable, Scope } from '@nestjs/common';
import { REQUEST } from '@nestjs/core';
import request from 'supertest';
import { Counted, MetricsModule } from '../lib/index.js';
import { createApp } from './helpers/create-app.js';
import { scrape, sum } from './helpers/metrics-text.js';

const REQUESTS = 200;
const made: WeakRef<object>[] = [];

@Injectable({ scope: Scope.REQUEST })
class PerRequestWork {
  constructor(@Inject(REQUEST) readonly req: unknown) {
    made.push(new WeakRef(this));
  }

  @Counted('per_request_work_total')
  run(): string {
    return 'ok';
  }
}

@Controller('work')
class WorkController {
  constructor(private readonly work: PerRequestWork) {}

  @Get()
  get(): string {
    return this.work.run();
  }
}

/** A full garbage collection, without starting Node with --expose-gc. */
function collectGarbage(): void {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}

describe('Request-scoped providers with @Counted', () => {
  it('count every call and keep no instance alive after its request', async () => {
    const app = await createApp({
      imports: [MetricsModule.forRoot({ defaultMetrics: false })],
      controllers: [WorkController],
      providers: [PerRequestWork],
    });
    try {
      for (let i = 0; i < REQUESTS; i++)
        await request(app.getHttpServer()).get('/work').expect(200, 'ok');
      expect(
        sum(await scrape(app), 'per_request_work_total', { result: 'success' }),
      ).toBe(REQUESTS);
      expect(made).toHaveLength(REQUESTS);
      for (let round = 0; round < 3; round++) {
        await new Promise((resolve) => setImmediate(resolve));
        collectGarbage();
      }
      // Each instance (and the request it holds) is garbage once its request ended.
      const alive = made.filter((ref) => ref.deref() !== undefined).length;
      expect(alive).toBeLessThan(REQUESTS / 10);
    } finally {
      await app.close();
    }
  });
});
