import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildLibrary } from './helpers/built-library.js';
import { ADAPTERS } from './helpers/create-app.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const fixture = fileURLToPath(
  new URL('./fixtures/two-copies-app.mjs', import.meta.url),
);

/** Packs a built copy and unpacks it as `<into>/node_modules/nestjs-metrics`. */
function install(version: string, into: string, packs: string): string {
  const { dir } = buildLibrary(version);
  execFileSync(
    'npm',
    ['pack', '--ignore-scripts', '--silent', '--pack-destination', packs],
    { cwd: dir, stdio: ['ignore', 'ignore', 'inherit'] },
  );
  const tarball = readdirSync(packs).find((name) =>
    name.endsWith(`-${version}.tgz`),
  )!;
  const target = join(into, 'node_modules/nestjs-metrics');
  mkdirSync(target, { recursive: true });
  execFileSync('tar', [
    '-xzf',
    join(packs, tarball),
    '-C',
    target,
    '--strip-components=1',
  ]);
  return join(target, 'dist/index.js');
}

describe('Two copies of the library in one process', () => {
  let entries: [string, string];
  let base: string;

  beforeAll(() => {
    base = mkdtempSync(join(tmpdir(), 'nestjs-metrics-two-copies-'));
    // Both copies, and the app, resolve Nest, prom-client and the adapters from here.
    symlinkSync(join(root, 'node_modules'), join(base, 'node_modules'), 'dir');
    const packs = join(base, 'packs');
    mkdirSync(packs);
    entries = [
      install('1.0.0', join(base, 'one'), packs),
      install('2.0.0', join(base, 'two'), packs),
    ];
  }, 240_000);

  it.each(ADAPTERS)(
    'on %s: two apps, one per copy, each count their own requests; one app importing both fails start-up',
    (adapter) => {
      const output = execFileSync(
        process.execPath,
        [fixture, entries[0], entries[1], adapter],
        { cwd: base, encoding: 'utf8' },
      );
      const result = JSON.parse(output.trim().split('\n').pop()!) as {
        one: number;
        two: number;
        both: { started: boolean; message?: string };
      };
      expect(result.one).toBe(1);
      expect(result.two).toBe(2);
      expect(result.both.started).toBe(false);
      expect(result.both.message).toMatch(
        /MetricsModule is imported twice in this app, from two copies of the library: nestjs-metrics 1\.0\.0 imported by BothModule, and nestjs-metrics 2\.0\.0 imported by BothModule/,
      );
    },
    60_000,
  );
});
