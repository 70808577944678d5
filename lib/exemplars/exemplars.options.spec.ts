import { resolveOptions } from '../metrics.options.js';
import { resolveExemplars } from './exemplars.options.js';

describe('exemplars option', () => {
  it('is off by default and with false; true takes trace_id and span_id', () => {
    expect(resolveOptions({}).exemplars).toBeUndefined();
    expect(resolveExemplars(false)).toBeUndefined();
    expect(resolveExemplars(true)).toEqual({
      traceIdLabel: 'trace_id',
      spanIdLabel: 'span_id',
    });
    expect(
      resolveOptions({ exemplars: { traceIdLabel: 'traceID' } }).exemplars,
    ).toEqual({
      traceIdLabel: 'traceID',
      spanIdLabel: 'span_id',
    });
  });

  it.each([
    [
      'yes',
      'nestjs-metrics: option "exemplars" must be true, false or { traceIdLabel?, spanIdLabel? }; got "yes".',
    ],
    [
      { traceIdLabel: 'trace-id' },
      'nestjs-metrics: option "exemplars.traceIdLabel" must be a label name ([a-zA-Z_][a-zA-Z0-9_]*, not starting with __); got "trace-id".',
    ],
    [
      { spanIdLabel: '__span' },
      'nestjs-metrics: option "exemplars.spanIdLabel" must be a label name ([a-zA-Z_][a-zA-Z0-9_]*, not starting with __); got "__span".',
    ],
    [
      { spanIdLabel: 3 },
      'nestjs-metrics: option "exemplars.spanIdLabel" must be a label name ([a-zA-Z_][a-zA-Z0-9_]*, not starting with __); got number 3.',
    ],
    [
      { traceIdLabel: 'id', spanIdLabel: 'id' },
      'nestjs-metrics: option "exemplars.spanIdLabel" must be a label name other than traceIdLabel ("id"); got "id".',
    ],
    [
      { traceLabel: 'x' },
      'nestjs-metrics: option "exemplars.traceLabel" must be left out (unknown key; known: traceIdLabel, spanIdLabel); got "x".',
    ],
    [
      { traceIdLabel: 't'.repeat(40), spanIdLabel: 's'.repeat(41) },
      `nestjs-metrics: option "exemplars" must be label names of at most 80 characters together (an exemplar's labels are limited to 128); got "${'t'.repeat(40)}, ${'s'.repeat(41)}".`,
    ],
  ])('fails start-up naming the option for %j', (value, message) => {
    expect(() => resolveOptions({ exemplars: value as never })).toThrow(
      new TypeError(message),
    );
  });
});
