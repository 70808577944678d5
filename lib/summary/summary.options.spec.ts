import { describe, expect, it } from '@jest/globals';
import { resolveOptions } from '../metrics.options.js';

describe('the summary option', () => {
  it('defaults to <path>/summary and a 300 s window, and leaves that path unmeasured', () => {
    expect(resolveOptions({}).summary).toEqual({
      path: '/metrics/summary',
      windowSeconds: 300,
    });
    const resolved = resolveOptions({
      path: '/stats/',
      excludePaths: ['/health'],
    });
    expect(resolved.summary?.path).toBe('/stats/summary');
    expect(resolved.excludePaths).toEqual(
      new Set(['/health', '/stats/summary']),
    );
  });

  it('takes a path and a window of its own', () => {
    const resolved = resolveOptions({
      summary: { path: '/admin/numbers/', windowSeconds: 60 },
    });
    expect(resolved.summary).toEqual({
      path: '/admin/numbers',
      windowSeconds: 60,
    });
    expect(resolved.excludePaths).toEqual(new Set(['/admin/numbers']));
  });

  it('is off with false, and with a metrics port the app server excludes nothing', () => {
    const off = resolveOptions({ summary: false });
    expect(off.summary).toBeUndefined();
    expect(off.excludePaths).toEqual(new Set());
    const onPort = resolveOptions({ port: 0 });
    expect(onPort.summary?.path).toBe('/metrics/summary');
    expect(onPort.excludePaths).toEqual(new Set());
  });

  it.each([
    [
      { windowSeconds: 0 },
      'option "summary.windowSeconds" must be a number of seconds from 1 to 86400; got number 0.',
    ],
    [
      { windowSeconds: '300' },
      'option "summary.windowSeconds" must be a number of seconds from 1 to 86400; got "300".',
    ],
    [
      { windowSeconds: 86_401 },
      'option "summary.windowSeconds" must be a number of seconds from 1 to 86400; got number 86401.',
    ],
    [{ path: 'summary' }, 'option "summary.path" must be a path'],
    [
      { path: '/metrics' },
      'option "summary.path" must be a path other than the metrics path /metrics; got "/metrics".',
    ],
    [
      { every: 5 },
      'option "summary.every" must be one of path, windowSeconds (unknown option); got "every".',
    ],
    [
      true,
      'option "summary" must be false or an object { path?, windowSeconds? }; got boolean true.',
    ],
  ])('fails start-up naming the option for %p', (summary, message) => {
    expect(() => resolveOptions({ summary } as never)).toThrow(message);
  });
});
