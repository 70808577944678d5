#!/usr/bin/env node
import { TOP_USAGE, UsageError, parseTopArguments } from './top-arguments.js';
import { runTop } from './top.js';

/** `nestjs-metrics <command>`: only `top` so far. */
async function main(argv: readonly string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(`${TOP_USAGE}\n`);
    return 0;
  }
  if (command !== 'top') {
    process.stderr.write(
      `${command === undefined ? 'No command given' : `Unknown command "${command}"`}.\n${TOP_USAGE}\n`,
    );
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(`${TOP_USAGE}\n`);
    return 0;
  }
  try {
    const args = parseTopArguments(rest);
    return await runTop(args, {
      stdout: process.stdout,
      stderr: process.stderr,
      onSignal: (signal, listener) => process.once(signal, listener),
    });
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`${error.message}.\n${TOP_USAGE}\n`);
      return 2;
    }
    throw error;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`${String((error as Error)?.stack ?? error)}\n`);
    process.exitCode = 1;
  },
);
