// The matrix check as an ESM app: every package, the library too, comes in through import.
// Usage: node main.mjs express|fastify
import 'reflect-metadata';
import * as common from '@nestjs/common';
import * as core from '@nestjs/core';
import * as microservices from '@nestjs/microservices';
import * as websockets from '@nestjs/websockets';
import * as platformWs from '@nestjs/platform-ws';
import * as nestBullmq from '@nestjs/bullmq';
import * as bullmq from 'bullmq';
import * as ws from 'ws';
import * as metrics from 'nestjs-metrics';
import scenario from './scenario.cjs';

const adapter = process.argv[2] ?? 'express';
const platformFastify =
  adapter === 'fastify' ? await import('@nestjs/platform-fastify') : undefined;
try {
  await scenario(
    {
      common,
      core,
      microservices,
      websockets,
      platformWs,
      platformFastify,
      nestBullmq,
      bullmq,
      ws,
      metrics,
    },
    { adapter, format: 'esm' },
  );
  console.log(`PASS esm ${adapter}`);
} catch (error) {
  console.error(`FAIL esm ${adapter}:`, error);
  process.exitCode = 1;
}
