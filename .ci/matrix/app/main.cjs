// The matrix check as a CommonJS app: every package, the library too, comes in through require().
// Usage: node main.cjs express|fastify
'use strict';
/* global require */
/* eslint-disable @typescript-eslint/no-require-imports -- a CommonJS file */

require('reflect-metadata');
const scenario = require('./scenario.cjs');

const adapter = process.argv[2] ?? 'express';
scenario(
  {
    common: require('@nestjs/common'),
    core: require('@nestjs/core'),
    microservices: require('@nestjs/microservices'),
    websockets: require('@nestjs/websockets'),
    platformWs: require('@nestjs/platform-ws'),
    platformFastify:
      adapter === 'fastify' ? require('@nestjs/platform-fastify') : undefined,
    nestBullmq: require('@nestjs/bullmq'),
    bullmq: require('bullmq'),
    ws: require('ws'),
    metrics: require('nestjs-metrics'),
  },
  { adapter, format: 'cjs' },
).then(
  () => console.log(`PASS cjs ${adapter}`),
  (error) => {
    console.error(`FAIL cjs ${adapter}:`, error);
    process.exitCode = 1;
  },
);
