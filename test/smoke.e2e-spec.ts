import 'reflect-metadata';
import request from 'supertest';
import { MetricsModule } from '../lib/index.js';
import { HttpFixtureModule } from './fixtures/http-fixture.module.js';
import { createApp } from './helpers/create-app.js';
import { scrape, sum } from './helpers/metrics-text.js';

it('boots', async () => {
  const app = await createApp({ imports: [MetricsModule.forRoot(), HttpFixtureModule] });
  await request(app.getHttpServer()).get('/items/3?x=1').expect(200);
  await request(app.getHttpServer()).get('/nope').expect(404);
  await request(app.getHttpServer()).get('/admin').expect(401);
  const s = await scrape(app);
  console.log(s.filter((x) => !x.name.startsWith('process') && !x.name.startsWith('nodejs') && !x.name.includes('bucket')));
  expect(sum(s, 'requests_total')).toBe(3);
  await app.close();
});
