import { execFile, execFileSync } from 'node:child_process';
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildLibrary } from './helpers/built-library.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const fixtures = fileURLToPath(
  new URL('./fixtures/vitest-testing/', import.meta.url),
);

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(
  file: string,
  args: readonly string[],
  cwd: string,
  env: Record<string, string> = {},
): Promise<Run> {
  return new Promise((resolve) =>
    execFile(
      file,
      args,
      {
        cwd,
        env: { ...process.env, ...env, NO_COLOR: '1', FORCE_COLOR: '0' },
        encoding: 'utf8',
        timeout: 60_000,
      },
      (error, stdout, stderr) =>
        resolve({
          code: error ? ((error as { code?: number }).code ?? 1) : 0,
          stdout,
          stderr,
        }),
    ),
  );
}

describe('The packed library: nestjs-metrics/testing and the nestjs-metrics bin', () => {
  let base: string;
  let listing: string;
  let tarball: string;

  beforeAll(() => {
    base = mkdtempSync(join(tmpdir(), 'nestjs-metrics-testing-package-'));
    const { dir } = buildLibrary();
    execFileSync(
      'npm',
      ['pack', '--ignore-scripts', '--silent', '--pack-destination', base],
      { cwd: dir, stdio: ['ignore', 'ignore', 'inherit'] },
    );
    tarball = join(
      base,
      readdirSync(base).find((name) => name.endsWith('.tgz'))!,
    );
    listing = execFileSync('tar', ['-tvzf', tarball], { encoding: 'utf8' });
    // node_modules: the project's packages, and the packed library as `nestjs-metrics`.
    const modules = join(base, 'node_modules');
    mkdirSync(modules);
    for (const entry of readdirSync(join(root, 'node_modules')))
      if (entry !== '.bin' && entry !== 'nestjs-metrics')
        symlinkSync(join(root, 'node_modules', entry), join(modules, entry));
    const unpacked = join(modules, 'nestjs-metrics');
    mkdirSync(unpacked);
    execFileSync('tar', [
      '-xzf',
      tarball,
      '-C',
      unpacked,
      '--strip-components=1',
    ]);
    writeFileSync(
      join(base, 'package.json'),
      JSON.stringify({ name: 'consumer', private: true, type: 'module' }),
    );
    mkdirSync(join(base, 'vitest'));
    copyFileSync(
      join(fixtures, 'metrics.test.mjs'),
      join(base, 'vitest/metrics.test.mjs'),
    );
  }, 180_000);

  const EXPORTS =
    'ExpositionSyntaxError,MetricsTestingModule,expectMetrics,formatLintProblems,getHistogram,getMetricValue,lintMetrics,parseExposition,snapshotDelta';

  it('resolves nestjs-metrics/testing from ESM import', async () => {
    writeFileSync(
      join(base, 'esm.mjs'),
      "const testing = await import('nestjs-metrics/testing');\nconsole.log(Object.keys(testing).sort().join(','));\n",
    );
    const result = await run(process.execPath, ['esm.mjs'], base);
    expect(result.stdout).toBe(`${EXPORTS}\n`);
    expect(result.code).toBe(0);
  });

  it('resolves nestjs-metrics/testing from CommonJS require', async () => {
    writeFileSync(
      join(base, 'cjs.cjs'),
      "const testing = require('nestjs-metrics/testing');\nconst main = require('nestjs-metrics');\nconsole.log(Object.keys(testing).filter((key) => key !== '__esModule' && key !== 'module.exports').sort().join(','));\nconsole.log(typeof main.MetricsModule);\n",
    );
    const result = await run(process.execPath, ['cjs.cjs'], base);
    expect(result.stdout).toBe(`${EXPORTS}\nfunction\n`);
    expect(result.code).toBe(0);
  });

  it('ships the types of nestjs-metrics/testing, and a bin npm installs as an executable with a shebang', async () => {
    expect(listing).toMatch(/ package\/dist\/testing\/index\.d\.ts\n/);
    expect(listing).toMatch(/ package\/dist\/cli\/main\.js\n/);
    // npm makes a package's bin executable when it installs it (the tarball keeps the build's
    // file modes): install the tarball alone, offline, as `npx nestjs-metrics` would.
    const consumer = join(base, 'installed');
    mkdirSync(consumer);
    writeFileSync(
      join(consumer, 'package.json'),
      JSON.stringify({ name: 'installed', private: true }),
    );
    const install = await run(
      'npm',
      [
        'install',
        '--offline',
        '--no-audit',
        '--no-fund',
        '--no-package-lock',
        '--ignore-scripts',
        '--legacy-peer-deps',
        tarball,
      ],
      consumer,
    );
    expect(install.code).toBe(0);
    const bin = join(consumer, 'node_modules/.bin/nestjs-metrics');
    expect(statSync(bin).mode & 0o111).toBe(0o111);
    expect(readFileSync(bin, 'utf8').startsWith('#!/usr/bin/env node\n')).toBe(
      true,
    );
    const help = await run(bin, ['--help'], consumer);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^Usage: nestjs-metrics top <url>/);
  }, 60_000);

  it('runs under vitest: the fixture test passes, and fails when its expectation is wrong', async () => {
    const vitest = join(root, 'node_modules/vitest/vitest.mjs');
    const cwd = join(base, 'vitest');
    const passing = await run(
      process.execPath,
      [vitest, 'run', '--root', cwd],
      cwd,
    );
    expect(passing.code).toBe(0);
    expect(passing.stdout).toMatch(/Tests +2 passed \(2\)/);
    const failing = await run(
      process.execPath,
      [vitest, 'run', '--root', cwd],
      cwd,
      { EXPECTED_REQUESTS: '3' },
    );
    expect(failing.code).toBe(1);
    const output = failing.stdout + failing.stderr;
    expect(output).toContain('counts the requests of this test');
    expect(output).toContain('expected 2 to be 3');
    expect(output).toMatch(/Tests +1 failed \| 1 passed \(2\)/);
  }, 120_000);
});
