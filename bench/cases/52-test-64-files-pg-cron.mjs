// `database test -j 2` on 64 short files over the example project, in a cluster with
// pg_cron preloaded (the default) — its scheduler stays connected to the target, so the
// run moves it aside for its snapshot — next to the same run in a cluster without it
// (SPEC §13: ≤ 1.1 × that). The runs alternate, the peer first, so both see the same
// machine; the peer's row is printed next to ours with the ratio. Needs pg_cron.
import { peerTarget, run, secondsOf } from '../lib.mjs';
import { deployedCluster, removeShortTestsProject, runShortTests, SHORT_FILES, shortTestsProject } from '../short-tests-project.mjs';

const peerTimes = [];

async function setup() {
  const project = shortTestsProject();
  try {
    const withCron = await deployedCluster(project, 'pg-cron', 'pg_cron');
    const check = await run('psql', ['-XAtc', "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'pg_cron launcher'", withCron.url]);
    if (check.stdout.trim() !== '1') throw new Error('pg_cron is not installed for this PostgreSQL (Debian: postgresql-15-cron)');
    return { project, withCron, plain: await deployedCluster(project, 'pg-plain', '') };
  } catch (error) {
    await removeShortTestsProject(project);
    throw error;
  }
}

export default {
  name: `test ${SHORT_FILES} short files, pg_cron`,
  runs: 5,
  peerName: 'peer: the same without pg_cron',
  peerTimes,
  get targetSeconds() {
    return peerTarget(peerTimes, 1.1);
  },
  setup,
  async beforeEach(state) {
    peerTimes.push(await secondsOf(() => runShortTests(state.project, state.plain)));
  },
  run: (state) => runShortTests(state.project, state.withCron),
  teardown: (state) => removeShortTestsProject(state.project),
};
