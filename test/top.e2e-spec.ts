import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  Controller,
  Get,
  NotFoundException,
  type INestApplication,
} from '@nestjs/common';
import request from 'supertest';
import { MetricsModule } from '../lib/index.js';
import { renderFrame } from '../lib/cli/render-frame.js';
import type { MetricsSummary } from '../lib/cli/summary-shape.js';
import { buildLibrary } from './helpers/built-library.js';
import { ADAPTERS, createApp } from './helpers/create-app.js';
import { freePort } from './helpers/free-port.js';
import { findSystemBinary } from './helpers/system-binary.js';

// `script` of util-linux, which Debian ships in bsdutils (an essential package).
const script = findSystemBinary(
  'script',
  'bsdutils',
  'the live view under a pseudo-terminal',
);

/** The example of the agreed summary shape (SUMMARY-SHAPE.md). */
const SUMMARY: MetricsSummary = {
  timestamp: '2026-12-01T12:00:00.000Z',
  uptime_seconds: 123.4,
  window_seconds: 300,
  quantile_estimate:
    "p50/p95/p99 are estimated from histogram buckets by linear interpolation, as Prometheus' histogram_quantile does",
  transports: {
    http: {
      requests: 1200,
      request_rate_per_second: 4.1,
      errors: 12,
      error_ratio: 0.01,
      errors_by_type: { not_found: 10, internal: 2 },
      in_flight: 3,
      latency_seconds: {
        window: { p50: 0.004, p95: 0.02, p99: 0.09 },
        lifetime: { p50: 0.004, p95: 0.021, p99: 0.1 },
      },
      top_routes_by_p95: [
        {
          method: 'GET',
          route: '/users/:id',
          requests: 800,
          errors: 1,
          p95: 0.02,
        },
      ],
      top_routes_by_errors: [
        {
          method: 'GET',
          route: '/missing',
          requests: 10,
          errors: 10,
          p95: 0.003,
        },
      ],
    },
  },
};

const ENTER = '\x1b[?1049h\x1b[?25l';
const LEAVE = '\x1b[?25h\x1b[?1049l';
const CLEAR_LINE_END = '\x1b[K';

let cli: string;
beforeAll(() => {
  cli = join(buildLibrary().dir, 'dist/cli/main.js');
}, 120_000);

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The CLI without a terminal: one frame (or one message) and exit. */
function runOnce(...args: string[]): Promise<Run> {
  return runOnceWith({}, ...args);
}

/** `runOnce` with more environment variables; `COLUMNS` is left out unless given. */
function runOnceWith(
  env: Record<string, string>,
  ...args: string[]
): Promise<Run> {
  const { COLUMNS: _columns, ...inherited } = process.env;
  const child = spawn(process.execPath, [cli, 'top', ...args], {
    env: { ...inherited, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout
    .setEncoding('utf8')
    .on('data', (chunk: string) => (stdout += chunk));
  child.stderr
    .setEncoding('utf8')
    .on('data', (chunk: string) => (stderr += chunk));
  return new Promise((resolve) =>
    child.once('close', (code) => resolve({ code, stdout, stderr })),
  );
}

/**
 * The CLI live under `script` (a pseudo-terminal of 100×40): waits until `ready(output)`, then
 * types Ctrl-C, which the terminal turns into SIGINT for the CLI; resolves with what it drew and
 * how it ended.
 */
function runLive(
  args: readonly string[],
  ready: (output: string) => boolean,
): Promise<{ code: number | null; output: string }> {
  const command = `stty cols 100 rows 40; exec ${process.execPath} ${cli} top ${args.join(' ')}`;
  const child = spawn(script!, ['-qfec', command, '/dev/null'], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  let output = '';
  let typed = false;
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => {
    output += chunk;
    if (!typed && ready(output)) {
      typed = true;
      child.stdin.write('\x03');
    }
  });
  return new Promise((resolve) =>
    child.once('close', (code) => {
      child.stdin.destroy();
      resolve({ code, output });
    }),
  );
}

/** How many frames the live view drew (each starts by moving the cursor home). */
const frames = (output: string) => output.split('\x1b[H').length - 1;

describe('nestjs-metrics top, against a server answering the agreed summary shape', () => {
  let server: Server;
  let base: string;
  let answers: Array<() => [number, string]>;
  const seen: Array<string | undefined> = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      seen.push(req.headers.authorization);
      if (req.url === '/metrics/summary') {
        const [status, body] = answers.shift()?.() ?? [
          200,
          JSON.stringify(SUMMARY),
        ];
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(body);
      } else if (req.url === '/secured/metrics/summary') {
        const ok =
          req.headers.authorization === 'Bearer s3cret' ||
          req.headers.authorization ===
            `Basic ${Buffer.from('ops:pa:ss').toString('base64')}`;
        res.writeHead(ok ? 200 : 401, { 'content-type': 'application/json' });
        res.end(ok ? JSON.stringify(SUMMARY) : '{"message":"Unauthorized"}');
      } else if (req.url === '/forbidden/metrics/summary') {
        res.writeHead(403).end();
      } else {
        res.writeHead(404).end();
      }
    });
    await new Promise<void>((resolve) =>
      server.listen(0, '127.0.0.1', resolve),
    );
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  beforeEach(() => {
    answers = [];
    seen.length = 0;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('without a terminal, prints renderFrame of the summary once and exits 0; the base URL reads /metrics/summary', async () => {
    const run = await runOnce(base);
    expect(run).toEqual({
      code: 0,
      stdout: renderFrame(SUMMARY, {
        width: 100,
        source: `${base}/metrics/summary`,
      }),
      stderr: '',
    });
    expect(run.stdout).toContain(
      'http            1200     4.10      12    1.00%   4.0ms  20.0ms  90.0ms         3',
    );
    expect((await runOnce(`${base}/metrics/summary`)).stdout).toBe(run.stdout);
    const narrow = await runOnceWith({ COLUMNS: '60' }, base);
    expect(narrow.stdout).toBe(
      renderFrame(SUMMARY, { width: 60, source: `${base}/metrics/summary` }),
    );
    expect(
      narrow.stdout.split('\n').every((line) => [...line].length <= 60),
    ).toBe(true);
  });

  it('sends --token as a bearer token and --user as basic auth; says what to do on 401', async () => {
    const refused = await runOnce(`${base}/secured/metrics/summary`);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toBe(
      `${base}/secured/metrics/summary answered 401 Unauthorized: the metrics are behind auth; give --token <token> (bearer) or --user <user:password> (basic).\n`,
    );
    expect(
      (await runOnce(`${base}/secured/metrics/summary`, '--token', 'wrong'))
        .stderr,
    ).toContain('the token given was refused');
    expect(
      (await runOnce(`${base}/secured/metrics/summary`, '--token', 's3cret'))
        .code,
    ).toBe(0);
    expect(
      (await runOnce(`${base}/secured/metrics/summary`, '--user', 'ops:pa:ss'))
        .code,
    ).toBe(0);
    expect(seen).toEqual([
      undefined,
      'Bearer wrong',
      'Bearer s3cret',
      `Basic ${Buffer.from('ops:pa:ss').toString('base64')}`,
    ]);
  });

  it('says so when the app refuses (403), has no summary at the URL (404) or is unreachable', async () => {
    const forbidden = await runOnce(`${base}/forbidden`);
    expect(forbidden.code).toBe(1);
    expect(forbidden.stderr).toBe(
      `${base}/forbidden/metrics/summary answered 403 Forbidden: the metrics are behind auth; give --token <token> (bearer) or --user <user:password> (basic).\n`,
    );
    const missing = await runOnce(`${base}/elsewhere/summary`);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(
      /\/elsewhere\/summary answered 404 Not Found: no summary there\./,
    );
    const port = await freePort();
    const unreachable = await runOnce(`http://127.0.0.1:${port}`);
    expect(unreachable).toEqual({
      code: 1,
      stdout: '',
      stderr: `Cannot reach http://127.0.0.1:${port}/metrics/summary: connection refused (is the app running, on this port?).\n`,
    });
  });

  it('refuses a wrong command line with the usage', async () => {
    const run = await runOnce(base, '--interval', 'soon');
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(
      /^--interval takes seconds between 0\.1 and 3600, got "soon"\.\nUsage: nestjs-metrics top <url>/,
    );
  });

  (script ? it : it.skip)(
    'live under a terminal: refreshes, shows a failed refresh and keeps going, Ctrl-C restores the screen and exits 0',
    async () => {
      answers = [
        () => [200, JSON.stringify(SUMMARY)],
        () => [401, '{}'],
        () => [200, JSON.stringify({ ...SUMMARY, uptime_seconds: 3723 })],
      ];
      const { code, output } = await runLive(
        [base, '--interval', '0.2'],
        (drawn) => drawn.includes('uptime 1h 2m'),
      );
      expect(code).toBe(0);
      expect(output.startsWith(ENTER)).toBe(true);
      expect(output.endsWith(LEAVE)).toBe(true);
      // Frame after frame, in the order of the answers: the summary, a refused refresh (the
      // last frame kept, with what went wrong), the next summary.
      const first = output.indexOf('uptime 2m 3s');
      const failed = output.indexOf(
        'Last refresh failed (retrying every 0.2s; Ctrl-C to quit):',
      );
      // The notice is wrapped to the terminal's width.
      expect(
        output.slice(failed).replaceAll(`${CLEAR_LINE_END}\r\n`, '\n'),
      ).toMatch(
        /^Last refresh failed \(retrying every 0\.2s; Ctrl-C to quit\): http:\/\/127\.0\.0\.1:\d+\/metrics\/summary\nanswered 401 Unauthorized: the metrics are behind auth;/,
      );
      const next = output.indexOf('uptime 1h 2m');
      expect(first).toBeGreaterThan(0);
      expect(failed).toBeGreaterThan(first);
      expect(next).toBeGreaterThan(failed);
      expect(frames(output.slice(0, next))).toBeGreaterThanOrEqual(3);
      expect(output).toContain('every 0.2s; Ctrl-C to quit');
    },
    30_000,
  );

  (script ? it : it.skip)(
    'live, an unreachable app is a message on the screen and the view keeps retrying until Ctrl-C',
    async () => {
      const port = await freePort();
      const { code, output } = await runLive(
        [`http://127.0.0.1:${port}`, '--interval', '0.2'],
        (drawn) => drawn.split('Still trying').length > 3,
      );
      expect(code).toBe(0);
      expect(output).toContain(
        `Cannot reach http://127.0.0.1:${port}/metrics/summary: connection`,
      );
      expect(output.endsWith(LEAVE)).toBe(true);
    },
    30_000,
  );
});

@Controller('orders')
class OrdersController {
  @Get()
  list(): string[] {
    return [];
  }

  @Get(':id')
  one(): never {
    throw new NotFoundException();
  }
}

describe.each(ADAPTERS)(
  'nestjs-metrics top, against a running app on %s',
  (adapter) => {
    let app: INestApplication;
    let base: string;

    beforeAll(async () => {
      app = await createApp(
        {
          imports: [
            MetricsModule.forRoot({
              auth: { bearer: 'top-s3cret' },
              defaultMetrics: false,
            }),
          ],
          controllers: [OrdersController],
        },
        undefined,
        adapter,
      );
      for (let i = 0; i < 3; i++)
        await request(app.getHttpServer()).get('/orders').expect(200);
      await request(app.getHttpServer()).get('/orders/7').expect(404);
      await app.listen(0, '127.0.0.1');
      const address = app.getHttpServer().address() as AddressInfo;
      base = `http://127.0.0.1:${address.port}`;
    });
    afterAll(() => app.close());

    it('one frame: the requests, errors and routes; 401 without the token', async () => {
      const refused = await runOnce(base);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toBe(
        `${base}/metrics/summary answered 401 Unauthorized: the metrics are behind auth; give --token <token> (bearer) or --user <user:password> (basic).\n`,
      );
      const run = await runOnce(base, '--token', 'top-s3cret');
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      const lines = run.stdout.split('\n');
      expect(lines[0]).toMatch(
        new RegExp(
          `^nestjs-metrics top  ${base}/metrics/summary +\\d\\d:\\d\\d:\\d\\d UTC$`,
        ),
      );
      expect(lines[1]).toMatch(
        /^uptime \d+\.\ds {3}window \d+\.\ds \(rate, error %, p50\/p95\/p99: bucket estimates\)$/,
      );
      // 4 requests, 1 error (25.00%), none in flight; the rate and quantiles vary.
      expect(lines[4]).toMatch(
        /^http +4 +\d+\.\d\d +1 +25\.00% +\S+ +\S+ +\S+ +0$/,
      );
      expect(run.stdout).toContain('http error types: not_found 1\n');
      expect(run.stdout).toMatch(/^ {2}GET +\/orders\/:id +1 +1 +\S+$/m);
      expect(run.stdout).toMatch(/^ {2}GET +\/orders +3 +0 +\S+$/m);
      if (process.env.TOP_FRAME_FILE && adapter === 'express')
        writeFileSync(process.env.TOP_FRAME_FILE, run.stdout);
    });

    (script ? it : it.skip)(
      'live under a terminal with --token, until Ctrl-C, which restores the screen and exits 0',
      async () => {
        const { code, output } = await runLive(
          [base, '--token', 'top-s3cret', '--interval', '0.2'],
          (drawn) => frames(drawn) >= 3 && drawn.includes('not_found 1'),
        );
        expect(code).toBe(0);
        expect(output.startsWith(ENTER)).toBe(true);
        expect(output.endsWith(LEAVE)).toBe(true);
        expect(output).toMatch(/http +4 +\d+\.\d\d +1 +25\.00%/);
      },
      30_000,
    );
  },
);
