import { defineConfig } from 'vitest/config';

// Three projects: unit tests beside the code, integration tests on real PostgreSQL and PGlite, e2e
// tests on a real Kubernetes control plane. `npm test` runs all three with coverage; sharding, when
// wanted, is vitest's own (`--shard=1/2 --reporter=blob`, then `vitest --merge-reports`).
export default defineConfig({
  test: {
    reporters: ['default', ['junit', { outputFile: 'reports/junit.xml' }]],
    coverage: {
      provider: 'v8',
      reportsDirectory: 'reports/coverage',
      reporter: ['text-summary', 'json-summary', 'lcov'],
      include: ['src/**/*.ts'],
      // Composition roots only wire things together; they are exercised by the e2e and executable tests
      // in child processes, which v8 coverage of this process cannot see.
      exclude: ['src/main/**', 'src/**/*.test.ts'],
      thresholds: { lines: 80 },
    },
    projects: [
      {
        test: {
          name: 'unit',
          include: ['src/**/*.test.ts', 'docs/.vitepress/**/*.test.ts'],
          environment: 'node',
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          environment: 'node',
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          environment: 'node',
          globalSetup: ['test/support/cluster/global-setup.ts'],
          testTimeout: 180_000,
          hookTimeout: 300_000,
          // One control plane is shared; files run one after another so they do not starve it.
          fileParallelism: false,
        },
      },
    ],
  },
});
