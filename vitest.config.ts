import { defineConfig } from 'vitest/config';

export default defineConfig({
  // The dashboard's tsconfig keeps JSX as is for Next ("preserve"); tests compile it with React's automatic runtime.
  oxc: { jsx: { runtime: 'automatic' } },
  // One React for component tests: @testing-library/react's react-dom is the root's copy.
  resolve: { dedupe: ['react', 'react-dom'] },
  test: {
    include: ['apps/*/src/**/*.test.{ts,tsx}', 'libs/*/src/**/*.test.ts', 'test/**/*.test.ts'],
    // tfjs keeps one global engine per process: isolate test files in their own processes.
    pool: 'forks',
    testTimeout: 120_000,
    hookTimeout: 120_000,
    reporters: ['default'],
  },
});
