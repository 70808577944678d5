import { BadRequestException, ForbiddenException } from '@nestjs/common';
import { Histogram, Registry } from 'prom-client';
import { RequestMetrics } from '../recorder/request-metrics.js';
import { QueueInstrumentation, waitSeconds } from './queue-instrumentation.js';
import { isControlFlowError, queueErrorType } from './queue-error-type.js';
import { payloadBytes as jsonBytes } from '../recorder/payload-bytes.js';
import type { QueueJob } from './queue-job.js';

const job = (fields: Partial<QueueJob> = {}): QueueJob => ({
  name: 'send',
  queueName: 'mail',
  data: {},
  timestamp: 1_000,
  attemptsMade: 0,
  ...fields,
});

describe('waitSeconds', () => {
  it('counts from the enqueue time', () => {
    expect(waitSeconds(job(), 1_250)).toBe(0.25);
  });

  it('counts a delayed job from when its delay ended', () => {
    expect(waitSeconds(job({ delay: 5_000 }), 6_500)).toBe(0.5);
  });

  it('is 0 when the producer clock runs ahead', () => {
    expect(waitSeconds(job({ timestamp: 9_000 }), 8_000)).toBe(0);
  });
});

describe('queueErrorType', () => {
  it.each([
    [new Error('x'), 'internal'],
    [Object.assign(new Error('slow'), { name: 'TimeoutError' }), 'timeout'],
    [new BadRequestException(), 'validation'],
    [new ForbiddenException(), 'forbidden'],
    ['a string', 'internal'],
  ])('maps %p to %s', (error, expected) => {
    expect(queueErrorType(error, undefined)).toBe(expected);
  });

  it('is aborted when the job signal fired', () => {
    const controller = new AbortController();
    controller.abort();
    expect(queueErrorType(new Error('x'), controller.signal)).toBe('aborted');
  });
});

describe('isControlFlowError', () => {
  it.each([
    ['DelayedError', true],
    ['WaitingChildrenError', true],
    ['Error', false],
  ])('%s -> %p', (name, expected) => {
    expect(isControlFlowError(Object.assign(new Error('m'), { name }))).toBe(
      expected,
    );
  });

  it('knows the rate limit error by its message', () => {
    expect(isControlFlowError(new Error('bullmq:rateLimitExceeded'))).toBe(
      true,
    );
  });
});

describe('jsonBytes', () => {
  it('is the UTF-8 size of the JSON, 0 for undefined and cycles', () => {
    const cycle: Record<string, unknown> = {};
    cycle.self = cycle;
    expect(jsonBytes({ a: 'é' })).toBe(10);
    expect(jsonBytes(undefined)).toBe(0);
    expect(jsonBytes(cycle)).toBe(0);
  });
});

describe('QueueInstrumentation.wrap', () => {
  function instrumentation() {
    const registry = new Registry();
    const metrics = new RequestMetrics('', [1]);
    metrics.register(registry);
    const wait = new Histogram({
      name: 'queue_wait_seconds',
      help: 'wait',
      labelNames: ['queue', 'job_name'],
      registers: [registry],
    });
    return {
      registry,
      instrumentation: new QueueInstrumentation(metrics, wait),
    };
  }

  it('keeps the length, so BullMQ still passes the abort signal', () => {
    const process = (_job: QueueJob, _token?: unknown, _signal?: unknown) => 1;
    const wrapped = instrumentation().instrumentation.wrap(process);
    expect(wrapped.length).toBe(3);
    expect(QueueInstrumentation.isMeasured(wrapped)).toBe(true);
    expect(instrumentation().instrumentation.wrap(wrapped)).toBe(wrapped);
  });

  it('does not count a control-flow error as a failure, and rethrows it', async () => {
    const { registry, instrumentation: queue } = instrumentation();
    const delayed = Object.assign(new Error('later'), { name: 'DelayedError' });
    const wrapped = queue.wrap(() => {
      throw delayed;
    });
    await expect(wrapped(job())).rejects.toBe(delayed);
    const text = await registry.metrics();
    expect(text).toContain(
      'requests_total{transport="queue",method="send",route="mail",status="ok"} 1',
    );
    expect(text).not.toMatch(/errors_total\{/);
  });
});
