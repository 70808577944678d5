import { execFileSync } from 'node:child_process';
import { connect } from 'node:net';
import { currentTestFile, writeRunRecord } from './test-run.js';

/** The brokers the tests talk to on loopback; `bash .ci/start-services.sh` starts them. */
export const SERVICES = {
  redis: { name: 'Redis', port: 6379 },
  rabbitmq: { name: 'RabbitMQ', port: 5672 },
  nats: { name: 'NATS', port: 4222 },
  mosquitto: { name: 'Mosquitto', port: 1883 },
} as const;

export type ServiceName = keyof typeof SERVICES;

/**
 * What to do about a requirement that is not met: under `CI` (set by `.ci/run`) it is an error,
 * since CI provides everything; elsewhere the tests that need it are skipped, with a warning and
 * a record the summary reporter lists at the end of the run (jest drops the console output of a
 * skipped suite).
 */
function unmet(what: string, reason: string, ciHint: string): void {
  if (process.env.CI) {
    throw new Error(`${reason}: required in CI (${ciHint})`);
  }
  console.warn(`${reason}: ${what} skipped`);
  writeRunRecord({ kind: 'skip', file: currentTestFile(), what, reason });
}

/**
 * The path of a system binary, or undefined when it is not installed (`what`, the tests that
 * need it, are then skipped; under `CI` it throws).
 */
export function requireBinary(
  name: string,
  debianPackage: string,
  what: string,
): string | undefined {
  try {
    const path = execFileSync('sh', ['-c', 'command -v "$0"', name], {
      encoding: 'utf8',
    }).trim();
    if (path) return path;
  } catch {
    // not on PATH
  }
  unmet(
    what,
    `${name} not found (Debian package ${debianPackage})`,
    `apt-get install ${debianPackage}`,
  );
  return undefined;
}

/** Whether something accepts TCP connections on `host:port` (a refusal answers at once). */
export function reachable(
  port: number,
  host = '127.0.0.1',
  waitMs = 2000,
): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(waitMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/**
 * Whether a broker answers on its loopback port. When it does not, `what` (the tests that need
 * it) are skipped; under `CI` it throws. Use with top-level `await` in the test file.
 */
export function requireService(
  service: ServiceName,
  what: string,
): Promise<boolean> {
  const { name, port } = SERVICES[service];
  return requireListening(name, port, what);
}

/** Whether `name` answers on 127.0.0.1:`port`; as `requireService`, for any port. */
export async function requireListening(
  name: string,
  port: number,
  what: string,
): Promise<boolean> {
  if (await reachable(port)) return true;
  unmet(
    what,
    `${name} is not reachable on 127.0.0.1:${port}`,
    'bash .ci/start-services.sh',
  );
  return false;
}
