import { writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { WebSocketServer } from 'ws';
import { buildLibrary, type BuiltLibrary } from './helpers/built-library.js';
import { FixtureProcess, type FixtureExit } from './helpers/fixture-process.js';
import { freePort } from './helpers/free-port.js';

// A process whose only background work is the log push: it must end by itself, with or
// without app.close(), whether the push server is there or not.
const SCRIPT = `
import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
const { MetricsModule } = await import('./dist/index.js');
const { LogErrorEvents } = await import('./dist/logs/log-error-events.js');
const print = (level) => (message) =>
  console.log(JSON.stringify({ level, message: String(message) }));
const logger = Object.fromEntries(
  ['log', 'error', 'warn', 'debug', 'verbose', 'fatal'].map((l) => [l, print(l)]),
);
class AppModule {}
Module({
  imports: [
    MetricsModule.forRoot({
      defaultMetrics: false,
      logPush: {
        url: process.env.PUSH_URL,
        authToken: 't0ken',
        service: 'job',
        flushIntervalSeconds: 60,
        timeoutSeconds: 0.5,
      },
    }),
  ],
})(AppModule);
const app = await NestFactory.createApplicationContext(AppModule, { logger });
const events = app.get(LogErrorEvents);
for (let i = 0; i < 7; i++) {
  events.emit({ timestamp: i, level: 'error', category: 'general', logger: 'r' + i, exceptionType: 'none' });
}
console.log('emitted');
if (process.env.CLOSE === '1') {
  await app.close();
  console.log('after close');
}
`;

let library: BuiltLibrary;
let script: string;
beforeAll(() => {
  library = buildLibrary();
  script = join(library.dir, 'log-push-app.mjs');
  writeFileSync(script, SCRIPT);
}, 120_000);

const running: FixtureProcess[] = [];
afterEach(async () => {
  for (const fixture of running.splice(0)) await fixture.stop();
});

/** How the fixture ended; a fixture that would run forever is killed after 15 s and fails. */
async function ended(
  fixture: FixtureProcess,
): Promise<FixtureExit | 'still running'> {
  let timer: NodeJS.Timeout | undefined;
  const outcome = await Promise.race([
    fixture.exited,
    new Promise<'still running'>((resolve) => {
      timer = setTimeout(() => resolve('still running'), 15_000);
    }),
  ]);
  clearTimeout(timer);
  return outcome;
}

function run(url: string, close: boolean): FixtureProcess {
  const fixture = new FixtureProcess(script, {
    PUSH_URL: url,
    CLOSE: close ? '1' : '0',
  });
  running.push(fixture);
  return fixture;
}

describe('log push and the end of the process', () => {
  it.each([false, true])(
    'with the server down, the process ends by itself (app.close() called: %s)',
    async (close) => {
      const fixture = run(`ws://127.0.0.1:${await freePort()}`, close);
      expect(await ended(fixture)).toEqual({ code: 0, signal: null });
      expect(fixture.lines).toEqual(
        close ? ['emitted', 'after close'] : ['emitted'],
      );
      expect(fixture.logsMatching(/^Log push to /)).toEqual(
        close
          ? [
              {
                level: 'debug',
                message: expect.stringContaining('is not connected'),
              },
              {
                level: 'warn',
                message: expect.stringMatching(
                  /: 7 record\(s\) not acknowledged within 500 ms of the shutdown/,
                ),
              },
            ]
          : [
              {
                level: 'debug',
                message: expect.stringContaining('is not connected'),
              },
            ],
      );
    },
  );

  it('app.close() flushes the queue to the server before the process ends', async () => {
    const server = createServer();
    const wss = new WebSocketServer({ server });
    const received: string[] = [];
    wss.on('connection', (ws) =>
      ws.on('message', (data) => {
        const message = JSON.parse(String(data)) as {
          batch: { tags: { logger_name: string } }[];
        };
        received.push(...message.batch.map((r) => r.tags.logger_name));
      }),
    );
    await new Promise<void>((resolve) =>
      server.listen(0, '127.0.0.1', resolve),
    );
    try {
      const { port } = server.address() as AddressInfo;
      const fixture = run(`ws://127.0.0.1:${port}`, true);
      expect(await ended(fixture)).toEqual({ code: 0, signal: null });
      expect(received).toEqual(['r0', 'r1', 'r2', 'r3', 'r4', 'r5', 'r6']);
      expect(fixture.logsMatching(/^Log push to /)).toEqual([]);
    } finally {
      for (const client of wss.clients) client.terminate();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
