import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['apps/*/src/**/*.test.{ts,tsx}', 'libs/*/src/**/*.test.ts', 'test/**/*.test.ts'],
    // tfjs keeps one global engine per process: isolate test files in their own processes.
    pool: 'forks',
    testTimeout: 120_000,
    hookTimeout: 120_000,
    reporters: ['default'],
  },
});
