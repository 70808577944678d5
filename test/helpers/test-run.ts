import { expect } from '@jest/globals';
import { appendFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Set by `test/reporters/skip-summary.mjs`: a temporary folder of this run's records. */
export const RUN_DIR_VARIABLE = 'NESTJS_METRICS_TEST_RUN_DIR';
/** The file in the run folder: one JSON record a line (see `test/reporters/skip-summary.mjs`). */
export const RECORDS_FILE = 'records.jsonl';

const root = fileURLToPath(new URL('../..', import.meta.url));

/** What the summary reporter prints at the end of the run. */
export type RunRecord =
  | { kind: 'skip'; file: string; what: string; reason: string }
  | { kind: 'seed'; file: string; label: string; seed: number };

/** The test file being loaded or run, relative to the project root. */
export function currentTestFile(): string {
  const testPath = expect.getState().testPath;
  return testPath ? relative(root, testPath) : '(unknown test file)';
}

/**
 * Appends a record for the summary reporter. Without the reporter (another jest config), there
 * is nowhere to write and the record is dropped: callers also print their own warning.
 */
export function writeRunRecord(record: RunRecord): void {
  const dir = process.env[RUN_DIR_VARIABLE];
  if (!dir) return;
  appendFileSync(join(dir, RECORDS_FILE), `${JSON.stringify(record)}\n`);
}
