// The prometheus-io cell as an ESM app. Usage: node main.mjs express|fastify
import 'reflect-metadata';
import * as common from '@nestjs/common';
import * as core from '@nestjs/core';
import promClient from 'prom-client';
import prometheusIo from '@prometheus-io/client';
import * as metrics from 'nestjs-metrics';
import check from './check.cjs';

const adapter = process.argv[2] ?? 'express';
const platformFastify =
  adapter === 'fastify' ? await import('@nestjs/platform-fastify') : undefined;

try {
  await check(
    { common, core, platformFastify, promClient, prometheusIo, metrics },
    { adapter },
  );
  console.log(`PASS esm ${adapter}`);
} catch (error) {
  console.error(`FAIL esm ${adapter}:`, error);
  process.exitCode = 1;
}
