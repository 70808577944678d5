import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Transport } from '@nestjs/microservices';
import { AppModule } from './app.module.js';
import { configureSampleApp } from './configure-app.js';

async function bootstrap(): Promise<void> {
  const app = await NestFactory.create(AppModule);
  configureSampleApp(app);

  // A hybrid app: the TCP microservice does not inherit the app's config, and is measured all the same.
  const microservicePort = Number(process.env.MICROSERVICE_PORT ?? 3001);
  app.connectMicroservice({
    transport: Transport.TCP,
    options: { host: process.env.HOST ?? 'localhost', port: microservicePort },
  });
  await app.startAllMicroservices();

  const port = Number(process.env.PORT ?? 3000);
  const host = process.env.HOST;
  // Without a host, Node listens on every interface (IPv4 and IPv6).
  if (host) await app.listen(port, host);
  else await app.listen(port);

  const url = host ? await app.getUrl() : `http://localhost:${port}`;
  const logger = new Logger('SampleApp');
  logger.log(`API at ${url}`);
  logger.log(`Metrics at ${url}/metrics`);
  logger.log(`WebSocket gateway at ${url.replace(/^http/, 'ws')}`);
  logger.log(`TCP microservice on port ${microservicePort}`);
}

void bootstrap();
