// A jest reporter that ends every run with what was skipped and why, the seeds of random inputs,
// and a check that the tests left the working tree as they found it.
//
// jest drops the console output of a skipped suite, so test/helpers/requirements.ts and
// test/helpers/seeded-random.ts write records (one JSON object a line) to a temporary folder made
// here for this run, named in NESTJS_METRICS_TEST_RUN_DIR (see test/helpers/test-run.ts).
import { execFileSync } from 'node:child_process';
import {
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';

const RUN_DIR_VARIABLE = 'NESTJS_METRICS_TEST_RUN_DIR';
const RECORDS_FILE = 'records.jsonl';

/** Size and modification time of a file, or of every file under a folder. */
function fingerprint(path, into) {
  let stat;
  try {
    stat = statSync(path);
  } catch {
    return;
  }
  if (!stat.isDirectory()) {
    into.set(path, `${stat.size}:${stat.mtimeMs}`);
    return;
  }
  for (const entry of readdirSync(path)) fingerprint(join(path, entry), into);
}

/**
 * What `git status` shows (ignored files included, since dist/ is ignored), with a fingerprint of
 * each listed file, or of every file under a listed folder, so a second write to an already
 * changed file shows too. `node_modules` is a
 * link to the main checkout's in a worktree: only its presence counts. Undefined outside git.
 */
function workingTree(root) {
  let output;
  try {
    output = execFileSync(
      'git',
      [
        'status',
        '--porcelain=v1',
        '-z',
        '--ignored',
        '--untracked-files=normal',
      ],
      {
        cwd: root,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
        maxBuffer: 64 * 1024 * 1024,
      },
    );
  } catch {
    return undefined;
  }
  const state = new Map();
  const entries = output.split('\0').filter(Boolean);
  for (let i = 0; i < entries.length; i++) {
    const entry = entries[i];
    const status = entry.slice(0, 2);
    const path = entry.slice(3);
    if (status[0] === 'R' || status[0] === 'C') i += 1; // the source path follows
    state.set(path, status);
    if (/^node_modules(\/|$)/.test(path)) continue;
    const files = new Map();
    fingerprint(join(root, path), files);
    for (const [file, print] of files)
      state.set(relative(root, file), `${status} ${print}`);
  }
  return state;
}

function changes(before, after) {
  const changed = [];
  for (const [key, print] of after)
    if (before.get(key) !== print) changed.push(key);
  for (const key of before.keys()) if (!after.has(key)) changed.push(key);
  return [...new Set(changed)].sort();
}

export default class SkipSummaryReporter {
  /** `options.workingTree`: the git checkout to watch (default: jest's rootDir). */
  constructor(globalConfig, options = {}) {
    this.root = globalConfig.rootDir;
    this.tree = options.workingTree || globalConfig.rootDir;
    this.error = undefined;
    this.failedFiles = new Set();
    // A run started by a test (the reporter's own test) gets its own folder.
    this.runDir = mkdtempSync(join(tmpdir(), 'nestjs-metrics-test-run-'));
    process.env[RUN_DIR_VARIABLE] = this.runDir;
  }

  onRunStart() {
    this.treeBefore = workingTree(this.tree);
  }

  onTestResult(_test, result) {
    if (result.numFailingTests > 0 || result.testExecError)
      this.failedFiles.add(relative(this.root, result.testFilePath));
  }

  records() {
    let text;
    try {
      text = readFileSync(join(this.runDir, RECORDS_FILE), 'utf8');
    } catch {
      return [];
    }
    return text
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line));
  }

  onRunComplete(_contexts, results) {
    const records = this.records();
    const lines = [''];

    // Skipped: each recorded reason, then jest's own count of tests that did not run.
    const skips = records.filter((r) => r.kind === 'skip');
    const pendingByFile = new Map();
    for (const file of results.testResults) {
      const pending = file.testResults.filter(
        (t) => t.status === 'pending' || t.status === 'skipped',
      ).length;
      if (pending > 0)
        pendingByFile.set(relative(this.root, file.testFilePath), pending);
    }
    for (const skip of skips)
      lines.push(`Skipped: ${skip.file} › ${skip.what} — ${skip.reason}`);
    for (const [file, pending] of pendingByFile) {
      if (!skips.some((s) => s.file === file))
        lines.push(
          `Skipped: ${file} › ${pending} test(s) — skipped in the code or by a name filter`,
        );
    }
    if (skips.length === 0 && pendingByFile.size === 0)
      lines.push('Skipped: none');
    const pending = results.numPendingTests + results.numTodoTests;
    if (pending > 0)
      lines.push(
        `Skipped tests: ${pending} of ${results.numTotalTests} (${[...pendingByFile].map(([f, n]) => `${f}: ${n}`).join(', ')})`,
      );

    // Seeds: one per test file that drew random inputs; a failing file gets its replay command.
    const seeds = new Map();
    for (const r of records.filter((r) => r.kind === 'seed'))
      seeds.set(r.file, r.seed);
    if (seeds.size > 0)
      lines.push(
        `Seeds: ${[...seeds].map(([file, seed]) => `${file.replace(/^test\/|\.e2e-spec\.ts$|\.spec\.ts$/g, '')}=${seed}`).join(', ')}`,
      );
    for (const [file, seed] of seeds) {
      if (this.failedFiles.has(file))
        lines.push(
          `Replay the random inputs of ${file}: TEST_SEED=${seed} npm test -- ${file}`,
        );
    }

    // The working tree: a test that writes there (dist/, …) fails the run.
    const treeAfter = workingTree(this.tree);
    if (this.treeBefore && treeAfter) {
      const changed = changes(this.treeBefore, treeAfter);
      if (changed.length > 0) {
        lines.push(
          `Working tree changed during the run (tests must write to a temporary folder):`,
          ...changed.map((path) => `  ${path}`),
        );
        this.error = new Error(
          `the tests changed the working tree: ${changed.join(', ')}`,
        );
      } else {
        lines.push('Working tree: unchanged by the tests');
      }
    } else {
      lines.push('Working tree: not a git checkout, not checked');
    }

    process.stderr.write(`${lines.join('\n')}\n`);
    rmSync(this.runDir, { recursive: true, force: true });
  }

  getLastError() {
    return this.error;
  }
}
