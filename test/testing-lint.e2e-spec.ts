import { spawnSync } from 'node:child_process';
import request from 'supertest';
import { Controller, Get } from '@nestjs/common';
import type { INestApplication } from '@nestjs/common';
import { MetricsModule } from '../lib/index.js';
import {
  ExpositionSyntaxError,
  formatLintProblems,
  lintMetrics,
} from '../lib/testing/index.js';
import { createApp } from './helpers/create-app.js';
import { findSystemBinary } from './helpers/system-binary.js';

const promtool = findSystemBinary(
  'promtool',
  'prometheus',
  'the comparison of lintMetrics with promtool check metrics',
);

/** `promtool check metrics` on `text`: its exit status and what it printed. */
function promtoolCheck(text: string): {
  status: number | null;
  output: string;
} {
  const result = spawnSync(promtool!, ['check', 'metrics'], {
    input: text,
    encoding: 'utf8',
  });
  return { status: result.status, output: result.stdout + result.stderr };
}

/** Expositions, each with the number of problems promtool reports in it. */
const CASES: ReadonlyArray<readonly [string, string, number]> = [
  [
    'a clean counter, gauge, histogram and summary',
    `# HELP jobs_total Jobs done.
# TYPE jobs_total counter
jobs_total{kind="import"} 3
jobs_total{kind="export"} 1
# HELP queue_depth Jobs waiting.
# TYPE queue_depth gauge
queue_depth 4
# HELP job_duration_seconds Job duration.
# TYPE job_duration_seconds histogram
job_duration_seconds_bucket{kind="import",le="0.1"} 1
job_duration_seconds_bucket{kind="import",le="+Inf"} 3
job_duration_seconds_sum{kind="import"} 2.5
job_duration_seconds_count{kind="import"} 3
# HELP payload_bytes Payload sizes.
# TYPE payload_bytes summary
payload_bytes{quantile="0.5"} 120
payload_bytes{quantile="0.9"} 800
payload_bytes_sum 5000
payload_bytes_count 12
`,
    0,
  ],
  [
    'a counter without _total and a gauge with it',
    `# HELP jobs Jobs done.
# TYPE jobs counter
jobs 3
# HELP workers_total Workers running.
# TYPE workers_total gauge
workers_total 2
`,
    2,
  ],
  [
    'no help text',
    `# TYPE queue_depth gauge
queue_depth 4
# TYPE jobs_total counter
jobs_total 1
`,
    2,
  ],
  [
    'non-base units',
    `# HELP job_duration_milliseconds x
# TYPE job_duration_milliseconds gauge
job_duration_milliseconds 3
# HELP cache_kilobytes x
# TYPE cache_kilobytes gauge
cache_kilobytes 3
# HELP uptime_hours x
# TYPE uptime_hours gauge
uptime_hours 3
# HELP sent_bits_total x
# TYPE sent_bits_total counter
sent_bits_total 3
`,
    4,
  ],
  [
    'camelCase metric and label names',
    `# HELP jobsDone_total x
# TYPE jobsDone_total counter
jobsDone_total{jobKind="a"} 1
jobsDone_total{jobKind="b"} 2
`,
    3,
  ],
  [
    'a colon and the type in the name',
    `# HELP job:requests:rate5m x
# TYPE job:requests:rate5m gauge
job:requests:rate5m 1
# HELP temperature_gauge x
# TYPE temperature_gauge gauge
temperature_gauge 20
# HELP requests_counter_total x
# TYPE requests_counter_total counter
requests_counter_total 1
# HELP latency_histogram_seconds x
# TYPE latency_histogram_seconds histogram
latency_histogram_seconds_bucket{le="+Inf"} 0
latency_histogram_seconds_sum 0
latency_histogram_seconds_count 0
`,
    4,
  ],
  [
    'abbreviated units',
    `# HELP latency_ms x
# TYPE latency_ms gauge
latency_ms 1
# HELP size_kb x
# TYPE size_kb gauge
size_kb 1
# HELP retries_s_total x
# TYPE retries_s_total counter
retries_s_total 1
`,
    3,
  ],
  [
    'reserved suffixes and labels',
    `# HELP wait_bucket x
# TYPE wait_bucket gauge
wait_bucket 1
# HELP users_count x
# TYPE users_count gauge
users_count 1
# HELP payments_sum x
# TYPE payments_sum gauge
payments_sum 1
# HELP ratio x
# TYPE ratio gauge
ratio{le="1"} 1
ratio{le="2"} 1
# HELP hits_total x
# TYPE hits_total counter
hits_total{quantile="0.5"} 1
`,
    6,
  ],
  [
    'untyped samples without HELP or TYPE',
    `orders_total 3
orders_pending_count 2
`,
    2,
  ],
  [
    'escaped label values, timestamps and special values',
    `# HELP paths_total Paths with "quotes" and a \\\\ backslash.
# TYPE paths_total counter
paths_total{path="/a\\"b",note="line\\nbreak"} 1 1700000000000
# HELP temperature_celsius x
# TYPE temperature_celsius gauge
temperature_celsius NaN
temperature_celsius{room="cold"} -Inf
`,
    0,
  ],
];
/** Broken expositions, each with the line promtool's parser stops at. */
const BROKEN: ReadonlyArray<readonly [string, string, number]> = [
  ['an unclosed label set', 'garbage{\n', 1],
  ['a sample without a value', '# TYPE a_total counter\na_total\n', 2],
  ['a value that is not a number', 'a_total one\n', 1],
  ['an unknown type', '# TYPE a_total widget\na_total 1\n', 1],
];

@Controller('orders')
class OrdersController {
  @Get()
  list(): string[] {
    return [];
  }
}

describe('lintMetrics, the rules of promtool check metrics', () => {
  it.each(CASES)('%s: the same problems as promtool', (_title, text, count) => {
    const problems = lintMetrics(text);
    expect(problems).toHaveLength(count);
    if (promtool === undefined) return;
    const checked = promtoolCheck(text);
    expect(checked.status).toBe(count === 0 ? 0 : 3);
    expect(formatLintProblems(problems)).toBe(checked.output);
  });

  it.each(BROKEN)(
    '%s: a syntax error on the line promtool names',
    (_title, text, line) => {
      let thrown: unknown;
      try {
        lintMetrics(text);
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(ExpositionSyntaxError);
      expect((thrown as ExpositionSyntaxError).line).toBe(line);
      if (promtool === undefined) return;
      const checked = promtoolCheck(text);
      expect(checked.status).toBe(1);
      expect(checked.output).toContain(
        `text format parsing error in line ${line}:`,
      );
    },
  );

  describe('on the scrape of a real app', () => {
    let app: INestApplication;
    let text: string;
    beforeAll(async () => {
      app = await createApp({
        imports: [MetricsModule.forRoot()],
        controllers: [OrdersController],
      });
      await request(app.getHttpServer()).get('/orders').expect(200);
      await request(app.getHttpServer()).get('/missing').expect(404);
      text = (await request(app.getHttpServer()).get('/metrics').expect(200))
        .text;
    });
    afterAll(() => app.close());

    it('finds what promtool finds (nothing) in default metrics and request families', () => {
      expect(text).toContain(
        'requests_total{transport="http",method="GET",route="/orders"',
      );
      expect(formatLintProblems(lintMetrics(text))).toBe('');
      if (promtool !== undefined)
        expect(promtoolCheck(text)).toEqual({ status: 0, output: '' });
    });
  });
});
