// `migrator migrate down all` of the same 200 migrations (target ≤ 1 s).
import { MIGRATION_COUNT, migrator, setupMigrations, teardownMigrations } from './30-migrate-200-up.mjs';

export default {
  name: `migrate down ${MIGRATION_COUNT}`,
  targetSeconds: 1,
  runs: 5,
  setup: setupMigrations,
  beforeEach: (state) => migrator(state, 'migrate', 'up', 'all'),
  run: (state) => migrator(state, 'migrate', 'down', 'all'),
  teardown: teardownMigrations,
};
