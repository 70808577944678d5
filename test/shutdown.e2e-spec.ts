import 'reflect-metadata';
import { Agent, get } from 'node:http';
import { Test } from '@nestjs/testing';
import { Gauge, type Registry } from 'prom-client';
import { METRICS_REGISTRY, MetricsModule } from '../lib/index.js';
import { CaptureLogger } from './helpers/capture-logger.js';
import { fileURLToPath } from 'node:url';
import { buildLibrary, type BuiltLibrary } from './helpers/built-library.js';
import { FixtureProcess } from './helpers/fixture-process.js';
import {
  type GatewayStandIn,
  hangingGateway,
  refusingGateway,
  slowGateway,
  stoppedGateway,
} from './helpers/gateway-stand-ins.js';
import { freePort } from './helpers/free-port.js';
import { parseSamples, sum } from './helpers/metrics-text.js';
import { PushgatewayProcess } from './helpers/pushgateway-process.js';

const fixture = fileURLToPath(
  new URL('./fixtures/shutdown-app.mjs', import.meta.url),
);
const clusterFixture = fileURLToPath(
  new URL('./fixtures/cluster-shutdown-app.mjs', import.meta.url),
);
const drainFixture = fileURLToPath(
  new URL('./fixtures/cluster-drain-app.mjs', import.meta.url),
);
const TIMEOUT_SECONDS = 2;
/** Answered well within TIMEOUT_SECONDS: the final values must arrive. */
const SLOW_ANSWER_MS = 300;
const GAVE_UP =
  /^Final push of metrics to http:\/\/127\.0\.0\.1:\d+\/metrics\/job@base64\/\S+ gave up after (\d) attempt\(s\) in \d+ ms \(timeoutSeconds: 2000 ms\): (.+); the gateway keeps the values of the last push that succeeded$/;
const PUSH_LINE = /^(Pushing metrics to|Final push of metrics to) /;

interface Reply {
  status: number;
  body: string;
}

/** One GET over a new connection; rejects when the connection fails or is closed. */
function fetchOnce(url: string, agent: Agent | false = false): Promise<Reply> {
  return new Promise((resolve, reject) => {
    get(url, { agent }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('error', reject);
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    }).on('error', reject);
  });
}

let library: BuiltLibrary;
beforeAll(() => {
  library = buildLibrary();
}, 120_000);

interface AppKind {
  name: string;
  /** Runs the app against `url` up to and through app.close(); returns the ended process. */
  run(url: string, jobName: string): Promise<FixtureProcess>;
  /** What the app counted, as the final push must carry it. */
  counted(body: string, labels?: Record<string, string>): number;
}

function pushOptions(url: string, jobName: string): string {
  return JSON.stringify({
    url,
    jobName,
    intervalSeconds: 3600,
    timeoutSeconds: TIMEOUT_SECONDS,
  });
}

function httpApp(adapter: 'express' | 'fastify'): AppKind {
  return {
    name: `an HTTP app on ${adapter} closing in its SIGTERM handler`,
    async run(url, jobName) {
      const app = new FixtureProcess(fixture, {
        LIBRARY: library.entry,
        MODE: 'http',
        ADAPTER: adapter,
        PUSHGATEWAY: pushOptions(url, jobName),
      });
      const [, base] = await app.printed(/^listening (\S+)$/);
      for (let i = 0; i < 2; i++)
        expect((await fetchOnce(`${base}/ping`)).status).toBe(200);
      app.kill('SIGTERM');
      await app.exited;
      return app;
    },
    counted: (body, labels = {}) =>
      sum(parseSamples(body), 'requests_total', {
        ...labels,
        route: '/ping',
        status: '200',
      }),
  };
}

const batchJob: AppKind = {
  name: 'a batch job with top-level await app.close()',
  async run(url, jobName) {
    const app = new FixtureProcess(fixture, {
      LIBRARY: library.entry,
      MODE: 'batch',
      PUSHGATEWAY: pushOptions(url, jobName),
    });
    await app.exited;
    return app;
  },
  counted: (body, labels = {}) =>
    sum(parseSamples(body), 'batch_items_total', labels),
};

const APPS = [httpApp('express'), httpApp('fastify'), batchJob];
const COUNTED = { 'an HTTP app': 2, 'a batch job': 3 };
const expectedCount = (app: AppKind) =>
  app.name.startsWith('a batch job')
    ? COUNTED['a batch job']
    : COUNTED['an HTTP app'];

describe.each(APPS)('shutdown of $name with a Pushgateway', (kind) => {
  let gateway: GatewayStandIn | undefined;

  afterEach(async () => {
    await gateway?.close();
    gateway = undefined;
  });

  async function expectCompleted(app: FixtureProcess): Promise<void> {
    expect(await app.exited).toEqual({ code: 0, signal: null });
    expect(app.lines).toContain('after close');
  }

  it('completes close() when nothing listens on the gateway port, and says once that the final push gave up', async () => {
    gateway = await stoppedGateway();
    const app = await kind.run(gateway.url, 'stopped');
    await expectCompleted(app);
    const pushLines = app.logsMatching(PUSH_LINE);
    expect(pushLines).toHaveLength(1);
    expect(pushLines[0].level).toBe('warn');
    const [, attempts, reason] = GAVE_UP.exec(pushLines[0].message)!;
    expect(attempts).toBe('3');
    expect(reason).toMatch(/ECONNREFUSED/);
  });

  it('completes close() when the gateway resets every connection, after exactly three attempts', async () => {
    gateway = await refusingGateway();
    const app = await kind.run(gateway.url, 'refusing');
    await expectCompleted(app);
    expect(gateway.connections()).toBe(3);
    const pushLines = app.logsMatching(PUSH_LINE);
    expect(pushLines).toHaveLength(1);
    const [, attempts, reason] = GAVE_UP.exec(pushLines[0].message)!;
    expect(attempts).toBe('3');
    expect(reason).toMatch(/ECONNRESET/);
  });

  it('completes close() when the gateway never answers, giving the one attempt the whole budget and a rounded figure', async () => {
    gateway = await hangingGateway();
    const app = await kind.run(gateway.url, 'hanging');
    await expectCompleted(app);
    expect(gateway.connections()).toBe(1);
    const pushLines = app.logsMatching(PUSH_LINE);
    expect(pushLines).toHaveLength(1);
    const [, attempts, reason] = GAVE_UP.exec(pushLines[0].message)!;
    expect(attempts).toBe('1');
    const [, waited] = /^no answer within (\d+) ms$/.exec(reason)!;
    expect(Number(waited)).toBeLessThanOrEqual(TIMEOUT_SECONDS * 1000);
  });

  it('delivers the final values to a gateway that answers slowly, within the timeout', async () => {
    const slow = await slowGateway(SLOW_ANSWER_MS);
    gateway = slow;
    const app = await kind.run(slow.url, 'slow');
    await expectCompleted(app);
    expect(slow.bodies()).toHaveLength(1);
    expect(kind.counted(slow.bodies()[0])).toBe(expectedCount(kind));
    expect(app.logsMatching(PUSH_LINE)).toEqual([]);
    expect(app.logs.filter((line) => line.level === 'warn')).toEqual([]);
  });
});

(PushgatewayProcess.available() ? describe : describe.skip)(
  'shutdown with a real Pushgateway',
  () => {
    let gateway: PushgatewayProcess;

    beforeAll(async () => {
      gateway = await PushgatewayProcess.start();
    });

    afterAll(async () => {
      await gateway?.stop();
    });

    it.each(APPS)('$name delivers its final values', async (kind) => {
      const jobName = `real_${APPS.indexOf(kind)}`;
      const app = await kind.run(gateway.url, jobName);
      expect(await app.exited).toEqual({ code: 0, signal: null });
      expect(app.lines).toContain('after close');
      expect(kind.counted(await gateway.metrics(), { job: jobName })).toBe(
        expectedCount(kind),
      );
      expect(app.logsMatching(PUSH_LINE)).toEqual([]);
    });
  },
);

describe('between shutdowns', () => {
  it('a batch job that never calls close() still ends on its own: the push interval holds nothing', async () => {
    const gateway = await hangingGateway();
    try {
      const app = new FixtureProcess(fixture, {
        LIBRARY: library.entry,
        MODE: 'batch-no-close',
        PUSHGATEWAY: pushOptions(gateway.url, 'no_close'),
      });
      expect(await app.exited).toEqual({ code: 0, signal: null });
      expect(gateway.connections()).toBe(0);
      expect(app.logsMatching(PUSH_LINE)).toEqual([]);
    } finally {
      await gateway.close();
    }
  });
});

describe('shutdown of a job with the metrics port while a scrape is in flight', () => {
  function startPortApp(scrape: 'slow' | 'hanging') {
    return new FixtureProcess(fixture, {
      LIBRARY: library.entry,
      MODE: 'port',
      SCRAPE: scrape,
    });
  }

  it.each([
    ['a new connection', false as const],
    ['a keep-alive connection', 'keep-alive' as const],
  ])(
    'lets a scrape on %s that is being rendered finish, then completes close()',
    async (_name, connection) => {
      const app = startPortApp('slow');
      const agent = connection && new Agent({ keepAlive: true });
      try {
        const [, port] = await app.printed(/^metrics (\d+)$/);
        const reply = await fetchOnce(
          `http://127.0.0.1:${port}/metrics`,
          agent || false,
        );
        expect(reply.status).toBe(200);
        expect(sum(parseSamples(reply.body), 'slow_probe')).toBe(42);
        expect(await app.exited).toEqual({ code: 0, signal: null });
        expect(app.lines).toContain('after close');
        expect(app.logsMatching(/^Closed the metrics port/)).toEqual([]);
      } finally {
        if (agent) agent.destroy();
        await app.stop();
      }
    },
  );

  it('closes the connection of a scrape that never finishes after the bound, and the process ends', async () => {
    const app = startPortApp('hanging');
    try {
      const [, port] = await app.printed(/^metrics (\d+)$/);
      await expect(
        fetchOnce(`http://127.0.0.1:${port}/metrics`),
      ).rejects.toThrow(/socket hang up|ECONNRESET/);
      expect(await app.exited).toEqual({ code: 0, signal: null });
      expect(app.lines).toContain('after close');
      expect(app.logsMatching(/^Closed the metrics port/)).toEqual([
        {
          level: 'warn',
          message:
            'Closed the metrics port with 1 scrape(s) still in progress after 3000 ms',
        },
      ]);
    } finally {
      await app.stop();
    }
  });
});

describe.each(['express', 'fastify'])(
  'shutdown of a cluster worker on %s while a scrape waits for the primary',
  (adapter) => {
    it('answers the waiting scrape 503 at once, removes its listener, and the worker ends by itself', async () => {
      const port = await freePort();
      const app = new FixtureProcess(clusterFixture, {
        LIBRARY: library.entry,
        PORT: String(port),
        ADAPTER: adapter,
      });
      try {
        const [, pid] = await app.printed(/^ready (\d+)$/);
        const scrape = fetchOnce(`http://127.0.0.1:${port}/metrics`);
        await app.printed(/^aggregate request$/);
        process.kill(Number(pid), 'SIGTERM');
        const reply = await scrape;
        expect(reply.status).toBe(503);
        expect(reply.body).toMatch(/the app is shutting down/);
        expect(await app.exited).toEqual({ code: 0, signal: null });
        expect(app.lines).toContain(
          'after close: message listeners 1 before, 1 after',
        );
        expect(app.lines).toContain(`exit ${pid} 0 null`);
      } finally {
        await app.stop();
      }
    });
  },
);

describe('a cluster worker that drains its requests while it closes', () => {
  it("still answers the primary, so the other workers' scrapes keep their totals", async () => {
    const ports = [await freePort(), await freePort()];
    const app = new FixtureProcess(drainFixture, {
      LIBRARY: library.entry,
      PORTS: ports.join(','),
    });
    try {
      const [, status, lines] = await app.printed(
        /^scrape during drain (\d+) (.*)$/,
      );
      expect(status).toBe('200');
      // One 404 on each worker: both answered. Worker 1's request in flight is not counted yet.
      expect(JSON.parse(lines)).toEqual([
        'requests_total{transport="http",method="GET",route="UNMATCHED",status="404"} 2',
      ]);
      await app.printed(/^closed$/);
      expect(await app.exited).toEqual({ code: 0, signal: null });
    } finally {
      await app.stop();
    }
  });
});

describe('final push when rendering the registry never finishes', () => {
  it('gives up at the deadline with one line, and close() resolves', async () => {
    const gateway = await slowGateway(SLOW_ANSWER_MS);
    const logger = new CaptureLogger();
    const moduleRef = await Test.createTestingModule({
      imports: [
        MetricsModule.forRoot({
          defaultMetrics: false,
          pushgateway: JSON.parse(
            pushOptions(gateway.url, 'stuck_collect'),
          ) as { url: string; jobName: string },
        }),
      ],
    }).compile();
    const app = moduleRef.createNestApplication({ logger });
    await app.init();
    new Gauge({
      name: 'stuck_probe',
      help: 'A gauge whose collection never finishes.',
      registers: [app.get<Registry>(METRICS_REGISTRY)],
      collect: () => new Promise<void>(() => undefined),
    });
    try {
      await app.close();
      const pushLines = logger.matching(PUSH_LINE);
      expect(pushLines).toHaveLength(1);
      expect(pushLines[0].level).toBe('warn');
      const [, attempts, reason] = GAVE_UP.exec(pushLines[0].message)!;
      expect(attempts).toBe('1');
      expect(reason).toMatch(/^no answer within \d+ ms$/);
      expect(gateway.connections()).toBe(0);
    } finally {
      await gateway.close();
    }
  });
});
