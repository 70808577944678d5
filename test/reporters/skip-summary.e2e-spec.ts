import { describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../helpers/free-port.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const FIXTURES = 'test/reporters/fixtures';
const REQUIREMENTS = `${FIXTURES}/requirements.fixture.ts`;
const RANDOM = `${FIXTURES}/random-input.fixture.ts`;

/** Runs jest on the fixture suites in a child process, watching a new empty git checkout. */
async function runFixtures(
  env: Record<string, string>,
): Promise<{ status: number | null; output: string }> {
  const tree = mkdtempSync(join(tmpdir(), 'nestjs-metrics-fixture-tree-'));
  try {
    spawnSync('git', ['init', '-q'], { cwd: tree });
    const inherited = { ...process.env };
    for (const name of [
      'CI',
      'TEST_SEED',
      'JEST_WORKER_ID',
      'NESTJS_METRICS_TEST_RUN_DIR',
    ])
      delete inherited[name];
    const result = spawnSync(
      process.execPath,
      [
        '--experimental-vm-modules',
        join(root, 'node_modules/jest/bin/jest.js'),
        '--config',
        join(root, FIXTURES, 'jest.config.js'),
        '--runInBand',
      ],
      {
        cwd: root,
        encoding: 'utf8',
        env: {
          ...inherited,
          FORCE_COLOR: '0',
          FIXTURE_WORKING_TREE: tree,
          // Nothing listens there once the probe closed it: the broker is missing.
          FIXTURE_CLOSED_PORT: String(await freePort()),
          ...env,
        },
      },
    );
    return {
      status: result.status,
      output: `${result.stdout}${result.stderr}`,
    };
  } finally {
    rmSync(tree, { recursive: true, force: true });
  }
}

const inputOf = (output: string) =>
  /fixture input ([0-9a-f]{16})/.exec(output)?.[1];

describe('The skip summary at the end of a run', () => {
  it('lists each suite skipped for a missing requirement, with the reason, and the seeds', async () => {
    const { status, output } = await runFixtures({ TEST_SEED: '42' });

    expect(status).toBe(0);
    expect(output).toContain(
      `Skipped: ${REQUIREMENTS} › the checks with the missing binary — nestjs-metrics-fixture-no-such-binary not found (Debian package nestjs-metrics-fixture)\n`,
    );
    expect(output).toMatch(
      new RegExp(
        `Skipped: ${REQUIREMENTS} › the checks with the missing broker — Fixture broker is not reachable on 127\\.0\\.0\\.1:\\d+\\n`,
      ),
    );
    expect(output).toContain(`Skipped tests: 3 of 6 (${REQUIREMENTS}: 3)\n`);
    expect(output).toContain(
      'Seeds: reporters/fixtures/random-input.fixture.ts=42\n',
    );
    expect(output).not.toContain('Replay the random inputs');
    expect(output).toContain('Working tree: unchanged by the tests\n');
  }, 120_000);

  it('fails the same suite instead under CI', async () => {
    const { status, output } = await runFixtures({ CI: 'true' });

    expect(status).toBe(1);
    expect(output).toContain(
      'nestjs-metrics-fixture-no-such-binary not found (Debian package nestjs-metrics-fixture): required in CI (apt-get install nestjs-metrics-fixture)',
    );
    expect(output).toContain(
      'FAIL test/reporters/fixtures/requirements.fixture.ts',
    );
    expect(output).toContain('Skipped: none\n');
    expect(output).not.toMatch(/^Skipped: test\//m);
  }, 120_000);

  it('replays the same random input from TEST_SEED and prints the replay command of a failing file', async () => {
    const first = await runFixtures({ TEST_SEED: '42', FIXTURE_FAIL: '1' });
    const second = await runFixtures({ TEST_SEED: '42' });
    const other = await runFixtures({ TEST_SEED: '43' });

    expect(first.status).toBe(1);
    expect(first.output).toContain(
      `Replay the random inputs of ${RANDOM}: TEST_SEED=42 npm test -- ${RANDOM}\n`,
    );
    expect(inputOf(first.output)).toBeDefined();
    expect(inputOf(second.output)).toBe(inputOf(first.output));
    expect(inputOf(other.output)).not.toBe(inputOf(first.output));
  }, 180_000);

  it('fails the run when a test leaves a file in the working tree', async () => {
    const { status, output } = await runFixtures({ FIXTURE_WRITE_TREE: '1' });

    expect(status).toBe(1);
    expect(output).toContain(
      'Working tree changed during the run (tests must write to a temporary folder):\n  left-behind.txt\n',
    );
    expect(output).toContain(
      'PASS test/reporters/fixtures/writes-tree.fixture.ts',
    );
  }, 120_000);
});
