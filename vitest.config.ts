import { defineConfig } from 'vitest/config';

// Integration tests start real PostgreSQL clusters; two cores means a small pool and
// generous timeouts (a cold initdb alone can take a few seconds).
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    maxWorkers: 2,
    globalSetup: ['test/helpers/global-setup.ts'],
    reporters: ['default', './test/helpers/summary-reporter.ts'],
  },
});
