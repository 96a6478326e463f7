// `database diff` of the example whose sources drifted (a column and an index): the
// baseline for 42-diff-write-migration. Exit 1 (differences) is the expected answer.
import { bin, run } from '../lib.mjs';
import { setupDriftProject, teardownDriftProject } from '../drift-project.mjs';

export default {
  name: 'diff (example, drift)',
  runs: 5,
  async setup() {
    const state = await setupDriftProject();
    const first = await run(bin('database'), ['diff'], state.env, { allowFailure: true }); // warms the template cache
    if (first.code !== 1) throw new Error(`diff of a drift should exit 1, got ${first.code}: ${first.stderr}`);
    return state;
  },
  run: async (state) => {
    const result = await run(bin('database'), ['diff'], state.env, { allowFailure: true });
    if (result.code !== 1) throw new Error(`diff exited ${result.code}: ${result.stderr}`);
  },
  teardown: teardownDriftProject,
};
