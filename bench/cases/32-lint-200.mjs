// `migrator lint` of 200 pending migrations (SPEC §17, issue 24: ≤ 1 s, the parser loaded
// once). The migrations of the migrate case (30-…): a schema's typical life, in which
// lint flags the indexes built without CONCURRENTLY and the ALTERs without lock_timeout,
// so the run exits 1 on purpose. Lint reads the pending list and the column types from
// the database, then parses every up file with libpg-query.
import { bin, run } from '../lib.mjs';
import { MIGRATION_COUNT, setupMigrations, teardownMigrations } from './30-migrate-200-up.mjs';

export default {
  name: `lint ${MIGRATION_COUNT} migrations`,
  runs: 7,
  targetSeconds: 1,
  setup: setupMigrations,
  async run(state) {
    const result = await run(bin('migrator'), [...state.args, 'lint', '--json'], { HECTIC_LOG: 'warn' }, { allowFailure: true });
    const report = JSON.parse(result.stdout);
    if (report.migrations.length !== MIGRATION_COUNT) throw new Error(`lint saw ${report.migrations.length} migrations, not ${MIGRATION_COUNT}`);
  },
  teardown: teardownMigrations,
};
