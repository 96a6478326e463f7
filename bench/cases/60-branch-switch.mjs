// `database branch switch` between two branches that both have a database of 100 MB
// (issue 23: ≤ 0.3 s): the renames behind PG_DATABASE, with pg_cron's scheduler moved
// aside. Each run goes to the other branch.
import { branchProject, dropBranchProject, switchTo } from '../branch-project.mjs';

export default {
  name: 'branch switch (100 MB, existing)',
  targetSeconds: 0.3,
  runs: 7,
  setup: async () => ({ ...(await branchProject()), at: 'other' }),
  async run(state) {
    state.at = state.at === 'main' ? 'other' : 'main';
    await switchTo(state, state.at);
  },
  teardown: dropBranchProject,
};
