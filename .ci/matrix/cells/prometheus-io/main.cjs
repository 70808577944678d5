// The prometheus-io cell as a CommonJS app. Usage: node main.cjs express|fastify
'use strict';
/* global require */
/* eslint-disable @typescript-eslint/no-require-imports -- a CommonJS file */

require('reflect-metadata');
const check = require('./check.cjs');

const adapter = process.argv[2] ?? 'express';
check(
  {
    common: require('@nestjs/common'),
    core: require('@nestjs/core'),
    platformFastify:
      adapter === 'fastify' ? require('@nestjs/platform-fastify') : undefined,
    promClient: require('prom-client'),
    prometheusIo: require('@prometheus-io/client'),
    metrics: require('nestjs-metrics'),
  },
  { adapter },
).then(
  () => console.log(`PASS cjs ${adapter}`),
  (error) => {
    console.error(`FAIL cjs ${adapter}:`, error);
    process.exitCode = 1;
  },
);
