import { defineConfig } from 'vitest/config';

// Two projects: `unit` tests pure logic (no cluster, no build needed); `integration`
// starts real PostgreSQL clusters and runs the compiled executables. Two cores means a
// small pool and generous timeouts: a cold initdb alone can take a few seconds, and CI
// runs suites side by side (the PostgreSQL matrix), where 60 s was not enough. A timeout
// only catches a hang; waits inside the tests poll for their condition and end early.
// Two workers, not more: the tests keep the cores busy (node starts, servers, pg_dump).
// Measured on two cores, 16 integration files: at load 15–19, 234–242 s with 2 workers
// against 259–269 s with 4; at load 3–6, 67–91 s with 2, 85 s with 3, 77 s with 4.
export default defineConfig({
  test: {
    testTimeout: 180_000,
    hookTimeout: 180_000,
    pool: 'forks',
    maxWorkers: 2,
    reporters: ['default', './test/helpers/summary-reporter.ts'],
    projects: [
      {
        extends: true,
        test: { name: 'unit', include: ['test/**/*.unit.test.ts'] },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/**/*.test.ts'],
          exclude: ['test/**/*.unit.test.ts'],
          globalSetup: ['test/helpers/global-setup.ts'],
        },
      },
    ],
  },
});
