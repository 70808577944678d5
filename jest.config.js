/** @type {import('jest').Config} */
export default {
  preset: 'ts-jest/presets/default-esm',
  testEnvironment: 'node',
  roots: ['<rootDir>/lib', '<rootDir>/test'],
  testMatch: ['**/*.spec.ts', '**/*.e2e-spec.ts'],
  // Fixture suites of the reporter's own test run only in the child jest it starts.
  testPathIgnorePatterns: [
    '/node_modules/',
    '<rootDir>/test/reporters/fixtures/',
  ],
  moduleNameMapper: {
    '^(\\.{1,2}/.*)\\.js$': '$1',
  },
  transform: {
    '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: 'tsconfig.json' }],
  },
  // After jest's own summary: what was skipped and why, seeds, and the working-tree check.
  reporters: ['default', '<rootDir>/test/reporters/skip-summary.mjs'],
  testTimeout: 30000,
};
