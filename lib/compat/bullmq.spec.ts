import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { WorkerHost } from '@nestjs/bullmq';
import { jest } from '@jest/globals';
import { forgetReportedDegradations } from './degraded.js';
import {
  checkProcessorKey,
  EXPECTED_PROCESSOR_METADATA,
  processorMetadataKey,
  workerOf,
  wrapProcessFn,
} from './bullmq.js';
import type { ProcessJob, QueueWorker } from '../queue/queue-job.js';

afterEach(() => {
  jest.restoreAllMocks();
  forgetReportedDegradations();
});

const worker = (processFn?: ProcessJob) =>
  ({ name: 'q', processFn, on: () => {}, off: () => {} }) as QueueWorker;

describe('compat/bullmq', () => {
  it('finds the @Processor() key by decorating a probe', async () => {
    await checkProcessorKey(true);
    expect(processorMetadataKey()).toBe(EXPECTED_PROCESSOR_METADATA);
  });

  it('reads the worker through the public getter, undefined before it exists', () => {
    class Host extends WorkerHost {
      process() {
        return Promise.resolve();
      }
    }
    const host = new Host();
    expect(workerOf(host)).toBeUndefined();
    const made = worker(() => 1);
    (host as unknown as { _worker: QueueWorker })._worker = made;
    expect(workerOf(host)).toBe(made);
  });

  it('wraps the processing function of a worker', () => {
    const original: ProcessJob = () => 'x';
    const target = worker(original);
    expect(
      wrapProcessFn(target, (fn) => () => `wrapped ${fn(null!) as string}`),
    ).toBe(true);
    expect(target.processFn!(null!)).toBe('wrapped x');
  });

  it('degrades with one warning when the worker has no processing function', () => {
    const warn = jest
      .spyOn(Logger.prototype, 'warn')
      .mockImplementation(() => {});
    expect(wrapProcessFn(worker(), (fn) => fn)).toBe(false);
    expect(wrapProcessFn(worker(), (fn) => fn)).toBe(false);
    expect(warn).toHaveBeenCalledTimes(1);
    expect(String(warn.mock.calls[0][0])).toMatch(
      /bullmq: Worker.processFn is not as this version expects; jobs .* are not measured/,
    );
  });
});
