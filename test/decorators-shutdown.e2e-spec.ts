import 'reflect-metadata';
import { get } from 'node:http';
import { Controller, Get, Injectable } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { Counted, MetricsModule, MetricsService } from '../lib/index.js';
import { parseSamples, sum } from './helpers/metrics-text.js';

let releaseRequest!: () => void;
let requestArrived!: () => void;

@Injectable()
class AuditService {
  @Counted('audit_writes_total')
  write(): string {
    return 'written';
  }
}

@Controller('orders')
class OrdersController {
  constructor(private readonly audit: AuditService) {}

  @Get()
  async list(): Promise<string> {
    requestArrived();
    await new Promise<void>((resolve) => (releaseRequest = resolve));
    // Runs while app.close() drains the HTTP server.
    return this.audit.write();
  }
}

function fetchText(port: number, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    get({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve(body));
    }).on('error', reject);
  });
}

describe('@Counted during shutdown', () => {
  it('counts calls made by a request still in flight when close() begins', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [MetricsModule.forRoot({ defaultMetrics: false })],
      controllers: [OrdersController],
      providers: [AuditService],
    }).compile();
    const app = moduleRef.createNestApplication({ logger: false });
    await app.listen(0, '127.0.0.1');
    const { port } = app.getHttpServer().address() as { port: number };
    const metrics = app.get(MetricsService);
    const arrived = new Promise<void>((resolve) => (requestArrived = resolve));
    const answer = fetchText(port, '/orders');
    await arrived;
    const closed = app.close();
    // Give close() time to reach the HTTP drain, where it waits for the request.
    await new Promise((resolve) => setTimeout(resolve, 100));
    releaseRequest();
    expect(await answer).toBe('written');
    await closed;
    expect(
      sum(parseSamples(await metrics.metrics()), 'audit_writes_total', {
        class: 'AuditService',
        method: 'write',
        result: 'success',
      }),
    ).toBe(1);
  });
});
