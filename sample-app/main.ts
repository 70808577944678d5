import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AppModule } from './app.module.js';

async function bootstrap(): Promise<void> {
  const app = await NestFactory.create(AppModule);
  app.enableShutdownHooks();

  const port = Number(process.env.PORT ?? 3000);
  const host = process.env.HOST;
  // Without a host, Node listens on every interface (IPv4 and IPv6).
  if (host) await app.listen(port, host);
  else await app.listen(port);

  const url = host ? await app.getUrl() : `http://localhost:${port}`;
  const logger = new Logger('SampleApp');
  logger.log(`API at ${url}`);
  logger.log(`Metrics at ${url}/metrics`);
}

void bootstrap();
