import { randomBytes } from 'node:crypto';
import autocannon, { type AutocannonRequest } from 'autocannon';
import type { LoadCommand, LoadSummary } from './ipc.js';

// The load generator: a long-lived child that runs one autocannon load per command and reports
// exact latency percentiles (autocannon's own histogram has 1 ms resolution).

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  const index = Math.min(
    sorted.length - 1,
    Math.max(0, Math.ceil((p / 100) * sorted.length) - 1),
  );
  return sorted[index];
}

function run(command: LoadCommand): Promise<LoadSummary> {
  let latencies = new Float64Array(1 << 16);
  let count = 0;
  const statuses: Record<string, number> = {};
  let randomPaths = 0;
  let sequence = 0;

  const fixed: AutocannonRequest[] = command.requests.map((request) => ({
    method: request.method,
    path: request.path,
    ...(request.body === undefined
      ? {}
      : {
          body: request.body,
          headers: { 'content-type': 'application/json' },
        }),
  }));
  let requests = fixed;
  const every = command.randomPathEvery ?? 0;
  const prefixes = command.randomPathPrefixes ?? [];
  if (every > 0 && prefixes.length > 0) {
    // autocannon cycles through `requests`: the every-th one is rebuilt with a fresh random path.
    requests = [];
    for (let i = 1; i < every; i++)
      requests.push(fixed[(i - 1) % fixed.length]);
    requests.push({
      method: 'GET',
      setupRequest: (request) => {
        randomPaths++;
        const prefix = prefixes[sequence++ % prefixes.length];
        return { ...request, path: prefix + randomBytes(8).toString('hex') };
      },
    });
  }

  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url: command.url,
        connections: command.connections,
        ...(command.amount === undefined
          ? { duration: command.duration }
          : { amount: command.amount }),
        requests,
        timeout: 10,
      },
      (error, result) => {
        if (error) {
          reject(error);
          return;
        }
        const sorted = latencies.subarray(0, count).sort();
        let sum = 0;
        for (const value of sorted) sum += value;
        resolve({
          id: command.id,
          durationSeconds: result.duration,
          requests: count,
          errors: result.errors,
          timeouts: result.timeouts,
          statuses,
          latencyMs: {
            p50: percentile(sorted, 50),
            p99: percentile(sorted, 99),
            mean: count === 0 ? NaN : sum / count,
          },
          randomPaths,
        });
      },
    );
    instance.on('response', (_client, statusCode, _bytes, responseTimeMs) => {
      if (count === latencies.length) {
        const grown = new Float64Array(latencies.length * 2);
        grown.set(latencies);
        latencies = grown;
      }
      latencies[count++] = responseTimeMs;
      statuses[statusCode] = (statuses[statusCode] ?? 0) + 1;
    });
  });
}

process.on('message', (command: LoadCommand) => {
  run(command).then(
    (summary) => process.send?.(summary),
    (error: unknown) =>
      process.send?.({ id: command.id, error: String(error) }),
  );
});
process.on('disconnect', () => process.exit(0));
process.send?.({ type: 'ready' });
