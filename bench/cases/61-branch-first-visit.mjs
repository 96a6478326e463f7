// `database branch switch` to a branch seen for the first time (issue 23: ≤ 1 s plus its
// migrations; this branch has none pending): a TEMPLATE copy of main's 100 MB database,
// the swap, and the migrator's look at the copy. Each run visits a new branch from main;
// going back to main is not timed.
import { branchProject, dropBranchProject, git, switchTo } from '../branch-project.mjs';

export default {
  name: 'branch first visit (100 MB copy)',
  targetSeconds: 1,
  runs: 5,
  setup: async () => ({ ...(await branchProject()), visits: 0 }),
  async beforeEach(state) {
    await switchTo(state, 'main');
    state.visits += 1;
    git(state.dir, 'branch', `visit-${state.visits}`, 'main');
  },
  run: (state) => switchTo(state, `visit-${state.visits}`),
  teardown: dropBranchProject,
};
