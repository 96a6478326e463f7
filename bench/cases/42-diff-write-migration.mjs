// `database diff --write-migration` on the same drift as 41-diff-drift: generates,
// proves (up then down on DB1) and writes the migration. Target (issue 14): at most
// 1.5 × the plain diff of the drift; the folder it wrote is removed before each run.
import { bin, run } from '../lib.mjs';
import { removeWrittenMigrations, setupDriftProject, teardownDriftProject } from '../drift-project.mjs';

export default {
  name: 'diff --write-migration (drift)',
  runs: 5,
  setup: setupDriftProject,
  beforeEach: removeWrittenMigrations,
  run: (state) => run(bin('database'), ['diff', '--write-migration', 'drift'], state.env),
  teardown: teardownDriftProject,
};
