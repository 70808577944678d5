import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import {
  Agent,
  type ClientRequest,
  get,
  type IncomingHttpHeaders,
} from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import { MetricsModule, type MetricsModuleOptions } from '../lib/index.js';
import { HttpFixtureModule } from './fixtures/http-fixture.module.js';
import { buildLibrary, type BuiltLibrary } from './helpers/built-library.js';
import { createApp } from './helpers/create-app.js';
import { freePort } from './helpers/free-port.js';
import { find, parseSamples, scrape, sum } from './helpers/metrics-text.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const fixture = fileURLToPath(
  new URL('./fixtures/cluster-app.mjs', import.meta.url),
);

interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/**
 * One GET over a new connection, so the cluster can hand it to any worker; or over `agent`'s
 * one kept-alive connection, which stays with the worker that took it.
 */
function fetchOnce(
  port: number,
  path: string,
  agent: Agent | false = false,
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    get({ host: '127.0.0.1', port, path, agent }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body }),
      );
    })
      .setTimeout(15_000, function (this: ClientRequest) {
        this.destroy(new Error(`GET ${path}: no answer within 15 s`));
      })
      .on('error', reject);
  });
}

class ClusterApp {
  private output = '';

  private constructor(
    readonly port: number,
    private readonly child: ChildProcess,
  ) {
    child.stdout!.on('data', (chunk: string) => (this.output += chunk));
  }

  /** Resolves once the primary reported the exit of worker `pid`. */
  async exited(pid: number): Promise<void> {
    await this.printed(new RegExp(`^exit ${pid}$`, 'm'));
  }

  /** Resolves with the pid of the worker once it reported that GET /block holds its event loop. */
  async blocking(): Promise<number> {
    return Number((await this.printed(/^blocking (\d+)$/m))[1]);
  }

  private async printed(line: RegExp): Promise<RegExpExecArray> {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const match = line.exec(this.output);
      if (match) return match;
      if (Date.now() > deadline)
        throw new Error(`the cluster app did not print ${line} within 10 s`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  static async start(clusterOption: unknown): Promise<ClusterApp> {
    const port = await freePort();
    const child = spawn(process.execPath, [fixture], {
      cwd: root,
      env: {
        ...process.env,
        LIBRARY_ENTRY: built.entry,
        PORT: String(port),
        WORKERS: '2',
        CLUSTER_OPTIONS: JSON.stringify(clusterOption),
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    await new Promise<void>((resolve, reject) => {
      let output = '';
      child.stdout!.setEncoding('utf8');
      child.stdout!.on('data', (chunk: string) => {
        output += chunk;
        if (output.includes('ready')) resolve();
      });
      child.once('exit', (code) =>
        reject(new Error(`cluster fixture exited with ${code}`)),
      );
    });
    return new ClusterApp(port, child);
  }

  /** `count` requests to /pid, `concurrency` at a time; returns how many each worker pid handled. */
  async hitPid(count: number, concurrency = 8): Promise<Map<number, number>> {
    const byPid = new Map<number, number>();
    let sent = 0;
    const lane = async () => {
      while (sent < count) {
        sent += 1;
        const reply = await fetchOnce(this.port, '/pid');
        expect(reply.status).toBe(200);
        const { pid } = JSON.parse(reply.body) as { pid: number };
        byPid.set(pid, (byPid.get(pid) ?? 0) + 1);
      }
    };
    await Promise.all(Array.from({ length: concurrency }, lane));
    return byPid;
  }

  scrape(): Promise<Reply> {
    return fetchOnce(this.port, '/metrics');
  }

  /**
   * One kept-alive connection to each of two workers, found with GET /pid (counted as such).
   * Returns them and how many /pid requests it took.
   */
  async connectionsToTwoWorkers(): Promise<{
    connections: [WorkerConnection, WorkerConnection];
    requests: number;
  }> {
    const byPid = new Map<number, WorkerConnection>();
    let requests = 0;
    while (byPid.size < 2) {
      const agent = new Agent({ keepAlive: true, maxSockets: 1 });
      requests += 1;
      const reply = await fetchOnce(this.port, '/pid', agent);
      const { pid } = JSON.parse(reply.body) as { pid: number };
      if (byPid.has(pid)) agent.destroy();
      else byPid.set(pid, new WorkerConnection(this.port, pid, agent));
    }
    const [a, b] = byPid.values();
    return { connections: [a, b], requests };
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      this.child.once('exit', () => resolve());
      this.child.kill('SIGTERM');
    });
  }
}

/** A kept-alive connection that one worker holds. */
class WorkerConnection {
  constructor(
    private readonly port: number,
    readonly pid: number,
    private readonly agent: Agent,
  ) {}

  async get(path: string): Promise<Reply> {
    const reply = await fetchOnce(this.port, path, this.agent);
    // Still the same connection: the worker that took it answered.
    expect(reply.headers['x-worker-pid']).toBe(String(this.pid));
    return reply;
  }

  close(): void {
    this.agent.destroy();
  }
}

const REQUESTS = 200;
const PID_ROUTE = { route: '/pid', status: '200' };

describe('cluster option', () => {
  it.each<[string, unknown, RegExp]>([
    ['cluster', 'yes', /option "cluster" must be true, false or an object/],
    [
      'workerLabel',
      { workerLabel: 1 },
      /option "cluster.workerLabel" must be true or false/,
    ],
    [
      'timeoutSeconds',
      { timeoutSeconds: -1 },
      /option "cluster.timeoutSeconds" must be a finite number/,
    ],
    ['unknown', { timeout: 1 }, /option "cluster.timeout" must be one of/],
  ])(
    'rejects a wrong %s at start-up, naming the option',
    async (_name, cluster, message) => {
      await expect(
        Test.createTestingModule({
          imports: [
            MetricsModule.forRoot({
              cluster: cluster as MetricsModuleOptions['cluster'],
            }),
          ],
        }).compile(),
      ).rejects.toThrow(message);
    },
  );

  it('serves the process its own metrics when it is not a cluster worker', async () => {
    const app = await createApp({
      imports: [MetricsModule.forRoot({ cluster: true }), HttpFixtureModule],
    });
    try {
      await request(app.getHttpServer()).get('/items').expect(200);
      await request(app.getHttpServer()).get('/items').expect(200);
      const samples = await scrape(app);
      expect(
        sum(samples, 'requests_total', { route: '/items', status: '200' }),
      ).toBe(2);
    } finally {
      await app.close();
    }
  });
});

/** The compiled library the fixture imports: it runs outside jest, in plain Node processes. */
let built: BuiltLibrary;

describe('cluster mode', () => {
  beforeAll(() => {
    built = buildLibrary();
  }, 60_000);

  describe('totals', () => {
    let app: ClusterApp;
    let byPid: Map<number, number>;

    beforeAll(async () => {
      app = await ClusterApp.start(true);
      byPid = await app.hitPid(REQUESTS);
    }, 30_000);

    afterAll(async () => {
      await app?.stop();
    });

    it('spreads the requests over both workers', () => {
      expect(byPid.size).toBe(2);
      expect([...byPid.values()].reduce((a, b) => a + b, 0)).toBe(REQUESTS);
    });

    it('serves the exact total of all workers from any worker', async () => {
      const servedBy = new Set<string>();
      for (let i = 0; i < 6; i++) {
        const reply = await app.scrape();
        expect(reply.status).toBe(200);
        servedBy.add(String(reply.headers['x-worker-pid']));
        const samples = parseSamples(reply.body);
        expect(sum(samples, 'requests_total', PID_ROUTE)).toBe(REQUESTS);
        expect(find(samples, 'requests_total', PID_ROUTE)).toHaveLength(1);
        expect(sum(samples, 'request_duration_seconds_count', PID_ROUTE)).toBe(
          REQUESTS,
        );
        expect(
          sum(samples, 'request_duration_seconds_bucket', {
            ...PID_ROUTE,
            le: '+Inf',
          }),
        ).toBe(REQUESTS);
        expect(sum(samples, 'concurrent_requests', { transport: 'http' })).toBe(
          0,
        );
        expect(find(samples, 'uptime_seconds')).toHaveLength(1);
      }
      expect(servedBy.size).toBe(2);
    });
  });

  it('keeps each worker apart with workerLabel, and the workers add up to the total', async () => {
    const app = await ClusterApp.start({ workerLabel: true });
    try {
      const byPid = await app.hitPid(40);
      const samples = parseSamples((await app.scrape()).body);
      const perWorker = find(samples, 'requests_total', PID_ROUTE);
      expect(perWorker.map((s) => s.labels.worker).sort()).toEqual(['1', '2']);
      expect(perWorker.map((s) => s.value).sort()).toEqual(
        [...byPid.values()].sort(),
      );
      expect(sum(samples, 'requests_total', PID_ROUTE)).toBe(40);
      expect(find(samples, 'uptime_seconds')).toHaveLength(2);
    } finally {
      await app.stop();
    }
  }, 30_000);

  it('answers 503 instead of hanging when a worker does not answer in time', async () => {
    const app = await ClusterApp.start({ timeoutSeconds: 0.5 });
    const folder = mkdtempSync(join(tmpdir(), 'nestjs-metrics-cluster-'));
    const release = join(folder, 'release');
    const { connections, requests } = await app.connectionsToTwoWorkers();
    const [held, free] = connections;
    try {
      await app.hitPid(10);
      // The worker stays stuck until the test releases it, however long the scrape takes.
      let blocking = true;
      const blocked = held
        .get(`/block?release=${encodeURIComponent(release)}`)
        .finally(() => {
          blocking = false;
        });
      expect(await app.blocking()).toBe(held.pid);

      const reply = await free.get('/metrics');
      expect(blocking).toBe(true);
      expect(reply.status).toBe(503);
      expect(reply.body).toMatch(
        /worker\(s\) \d+ did not answer within 500 ms/,
      );

      writeFileSync(release, '');
      expect((await blocked).status).toBe(200);
      // Once the worker is free again the totals are back, /block included.
      const after = await free.get('/metrics');
      expect(after.status).toBe(200);
      expect(
        sum(parseSamples(after.body), 'requests_total', { route: '/pid' }),
      ).toBe(10 + requests);
      expect(
        sum(parseSamples(after.body), 'requests_total', { route: '/block' }),
      ).toBe(1);
    } finally {
      writeFileSync(release, '');
      held.close();
      free.close();
      await app.stop();
      rmSync(folder, { recursive: true, force: true });
    }
  }, 30_000);

  it('leaves out a worker that died and still answers', async () => {
    const app = await ClusterApp.start(true);
    try {
      const byPid = await app.hitPid(30);
      const [deadPid, survivorPid] = [...byPid.keys()];
      process.kill(deadPid, 'SIGKILL');
      // Until the primary sees the exit, the cluster may still hand it a connection.
      await app.exited(deadPid);
      const reply = await app.scrape();
      expect(reply.status).toBe(200);
      expect(reply.headers['x-worker-pid']).toBe(String(survivorPid));
      expect(sum(parseSamples(reply.body), 'requests_total', PID_ROUTE)).toBe(
        byPid.get(survivorPid),
      );
    } finally {
      await app.stop();
    }
  }, 30_000);
});
