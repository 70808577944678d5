import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildLibrary, type BuiltLibrary } from './helpers/built-library.js';
import { parseSamples, sum } from './helpers/metrics-text.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const fixtures = join(root, 'test/fixtures/formats');
const tsc = join(root, 'node_modules/typescript/bin/tsc');

/** What the fixture app imports, linked from the project's node_modules. */
const LINKED = ['@nestjs', '@types', 'prom-client', 'reflect-metadata', 'rxjs'];

type Format = 'cjs' | 'esm';
const REQUESTS = 7;

/**
 * A fixture app folder outside the working tree: the shared source, the format's package.json and
 * tsconfig, and a node_modules holding the compiled library as `nestjs-metrics`.
 */
function appFolder(library: BuiltLibrary, format: Format): string {
  const dir = mkdtempSync(join(tmpdir(), `nestjs-metrics-${format}-app-`));
  copyFileSync(join(fixtures, 'app/main.ts'), join(dir, 'main.ts'));
  for (const file of [
    'package.json',
    'tsconfig.json',
    'tsconfig.nodenext.json',
  ])
    try {
      copyFileSync(join(fixtures, format, file), join(dir, file));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  mkdirSync(join(dir, 'node_modules'));
  symlinkSync(library.dir, join(dir, 'node_modules/nestjs-metrics'), 'dir');
  for (const name of LINKED)
    symlinkSync(
      join(root, 'node_modules', name),
      join(dir, 'node_modules', name),
      'dir',
    );
  return dir;
}

/** Runs tsc on `project`; resolves with its output, throws with it when tsc reports errors. */
function typescript(project: string): string {
  try {
    return execFileSync(process.execPath, [tsc, '-p', project], {
      encoding: 'utf8',
    });
  } catch (error) {
    const { stdout, stderr } = error as { stdout: string; stderr: string };
    throw new Error(`tsc -p ${project} failed:\n${stdout}${stderr}`, {
      cause: error,
    });
  }
}

/** The compiled fixture app running in its own Node process. */
class FixtureApp {
  private constructor(
    readonly port: number,
    readonly format: string,
    private readonly child: ChildProcess,
  ) {}

  static start(main: string, adapter: string): Promise<FixtureApp> {
    const child = spawn(process.execPath, [main, adapter], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    return new Promise((resolve, reject) => {
      const collect = (chunk: Buffer) => {
        output += chunk.toString();
        const match = /^listening (\d+) (\w+)$/m.exec(output);
        if (match) resolve(new FixtureApp(Number(match[1]), match[2], child));
      };
      child.stdout!.on('data', collect);
      child.stderr!.on('data', collect);
      child.once('exit', (code) =>
        reject(
          new Error(`${main} exited with ${code} before listening:\n${output}`),
        ),
      );
    });
  }

  get(path: string): Promise<Response> {
    return fetch(`http://127.0.0.1:${this.port}${path}`);
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    return new Promise((resolve) => {
      this.child.once('exit', () => resolve());
      this.child.kill('SIGTERM');
    });
  }
}

describe('module formats: an app loads the built package by its name', () => {
  let library: BuiltLibrary;
  const folders: string[] = [];
  const mains = new Map<Format, string>();

  beforeAll(() => {
    library = buildLibrary();
    for (const format of ['cjs', 'esm'] as const) {
      const dir = appFolder(library, format);
      folders.push(dir);
      typescript(join(dir, 'tsconfig.json'));
      mains.set(format, join(dir, 'out/main.js'));
    }
  }, 300_000);

  afterAll(() => {
    for (const dir of [...folders, library?.dir])
      if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('compiles the CommonJS app to require() and the ESM app to import', () => {
    expect(readFileSync(mains.get('cjs')!, 'utf8')).toContain(
      'require("nestjs-metrics")',
    );
    expect(readFileSync(mains.get('esm')!, 'utf8')).toMatch(
      /^import .* from 'nestjs-metrics';$/m,
    );
  });

  it('type-checks in a CommonJS package under module nodenext too', () => {
    const dir = folders[0];
    expect(typescript(join(dir, 'tsconfig.nodenext.json'))).toBe('');
  }, 120_000);

  describe.each(['cjs', 'esm'] as const)('%s app', (format) => {
    describe.each(['express', 'fastify'])('on %s', (adapter) => {
      let app: FixtureApp;

      beforeAll(async () => {
        app = await FixtureApp.start(mains.get(format)!, adapter);
      }, 60_000);

      afterAll(async () => {
        await app?.stop();
      });

      it(`runs as ${format} and counts ${REQUESTS} requests end to end`, async () => {
        expect(app.format).toBe(format);
        for (let id = 1; id <= REQUESTS; id++) {
          const res = await app.get(`/orders/${id}`);
          expect(res.status).toBe(200);
          expect(await res.json()).toEqual({ id });
        }
        const res = await app.get('/metrics');
        expect(res.status).toBe(200);
        const samples = parseSamples(await res.text());
        const route = {
          transport: 'http',
          method: 'GET',
          route: '/orders/:id',
        };
        expect(
          sum(samples, 'requests_total', { ...route, status: '200' }),
        ).toBe(REQUESTS);
        expect(sum(samples, 'requests_total', { transport: 'http' })).toBe(
          REQUESTS,
        );
        expect(
          sum(samples, 'orders_read_total', {
            class: 'OrdersService',
            method: 'find',
          }),
        ).toBe(REQUESTS);
        expect(
          sum(samples, 'method_duration_seconds_count', {
            class: 'OrdersService',
            method: 'find',
          }),
        ).toBe(REQUESTS);
      });
    });
  });
});
