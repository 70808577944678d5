import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './free-port.js';

/** One sample of an instant vector returned by the query API. */
export interface VectorSample {
  metric: Record<string, string>;
  value: number;
}

/** The parts of a Prometheus configuration the tests use; JSON is valid YAML. */
export interface PrometheusConfig {
  global: { scrape_interval: string; evaluation_interval?: string };
  rule_files?: string[];
  scrape_configs: {
    job_name: string;
    metrics_path?: string;
    scrape_interval?: string;
    scrape_timeout?: string;
    static_configs: { targets: string[] }[];
  }[];
}

/** A Prometheus server running as a child process with its own config and data directory. */
export interface PrometheusServer {
  readonly url: string;
  /** GET on the HTTP API; throws unless Prometheus answers `status: "success"`. */
  api<T>(path: string, params?: Record<string, string>): Promise<T>;
  /** An instant query at the current time, as samples with numeric values. */
  query(expr: string): Promise<VectorSample[]>;
  /** Resolves once a scrape of `job` that started after `afterMs` (epoch ms) succeeded. */
  waitForScrapeAfter(
    job: string,
    afterMs: number,
    timeoutMs?: number,
  ): Promise<void>;
  stop(): Promise<void>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Starts `binary` on 127.0.0.1 with `config` and a temporary data directory, and resolves when
 * it is ready. A port taken between picking it and binding it is retried on another one.
 */
export async function startPrometheus(
  binary: string,
  config: PrometheusConfig,
  /** More command-line flags, e.g. `--enable-feature=exemplar-storage`. */
  extraFlags: readonly string[] = [],
): Promise<PrometheusServer> {
  const directory = await mkdtemp(join(tmpdir(), 'nestjs-metrics-prometheus-'));
  const configFile = join(directory, 'prometheus.yml');
  await writeFile(configFile, JSON.stringify(config, null, 2));
  try {
    for (let attempt = 1; ; attempt++) {
      const port = await freePort();
      const started = await launch(
        binary,
        configFile,
        directory,
        port,
        extraFlags,
      );
      if ('child' in started) {
        return server(started.child, `http://127.0.0.1:${port}`, directory);
      }
      if (attempt === 3 || !/address already in use/.test(started.log)) {
        throw new Error(`prometheus did not start:\n${started.log}`);
      }
    }
  } catch (error) {
    await rm(directory, { recursive: true, force: true });
    throw error;
  }
}

async function launch(
  binary: string,
  configFile: string,
  directory: string,
  port: number,
  extraFlags: readonly string[],
): Promise<{ child: ChildProcess } | { log: string }> {
  const child = spawn(
    binary,
    [
      `--config.file=${configFile}`,
      `--storage.tsdb.path=${join(directory, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
      ...extraFlags,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let log = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (chunk: string) => {
    if (log.length < 20_000) log += chunk;
  });
  let exited = false;
  child.once('exit', () => (exited = true));
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  child.once('exit', () => process.off('exit', killOnExit));

  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    if (exited) return { log };
    try {
      const response = await fetch(`http://127.0.0.1:${port}/-/ready`);
      if (response.ok) return { child };
    } catch {
      // not listening yet
    }
    await sleep(100);
  }
  await stopChild(child);
  return { log: `not ready after 20s\n${log}` };
}

function server(
  child: ChildProcess,
  url: string,
  directory: string,
): PrometheusServer {
  const api = async <T>(
    path: string,
    params: Record<string, string> = {},
  ): Promise<T> => {
    const response = await fetch(
      `${url}${path}?${new URLSearchParams(params)}`,
    );
    const body = (await response.json()) as {
      status: string;
      data: T;
      error?: string;
    };
    if (body.status !== 'success') {
      throw new Error(`${path} ${JSON.stringify(params)}: ${body.error}`);
    }
    return body.data;
  };
  const query = async (expr: string): Promise<VectorSample[]> => {
    const data = await api<{
      resultType: string;
      result: { metric: Record<string, string>; value: [number, string] }[];
    }>('/api/v1/query', { query: expr });
    if (data.resultType !== 'vector') {
      throw new Error(`${expr}: a ${data.resultType}, not a vector`);
    }
    return data.result.map((r) => ({
      metric: r.metric,
      value: Number(r.value[1]),
    }));
  };
  return {
    url,
    api,
    query,
    async waitForScrapeAfter(job, afterMs, timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const { activeTargets } = await api<{
          activeTargets: {
            labels: Record<string, string>;
            health: string;
            lastScrape: string;
          }[];
        }>('/api/v1/targets', { state: 'active' });
        // lastScrape is when the scrape started.
        const scraped = activeTargets.some(
          (t) =>
            t.labels.job === job &&
            t.health === 'up' &&
            Date.parse(t.lastScrape) > afterMs,
        );
        if (scraped) return;
        if (Date.now() > deadline) {
          throw new Error(`no successful scrape of ${job} after ${afterMs}`);
        }
        await sleep(200);
      }
    },
    async stop() {
      await stopChild(child);
      await rm(directory, { recursive: true, force: true });
    },
  };
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}
