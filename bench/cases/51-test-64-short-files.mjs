// `database test -j 2` on 64 short files over the example project (each reads one table),
// side by side with `pg_prove -j 2` on the same files and database (SPEC §13: ≤ 0.9 ×
// pg_prove). Where case 50's files sleep, these show what each file costs besides its
// own SQL: ours runs each in its own copy of the target, pg_prove in the target itself.
// The cluster is without pg_cron (case 52 measures what pg_cron adds). The runs
// alternate — pg_prove before each of ours — so both see the same machine; our target
// is 0.9 × its median. Needs pg_prove (Debian: libtap-parser-sourcehandler-pgtap-perl).
import { peerTarget, run, secondsOf } from '../lib.mjs';
import { deployedCluster, removeShortTestsProject, runShortTests, SHORT_FILES, shortTestsProject } from '../short-tests-project.mjs';

const peerTimes = [];

async function setup() {
  await run('pg_prove', ['--version']).catch(() => {
    throw new Error('pg_prove is not installed (Debian: apt-get install libtap-parser-sourcehandler-pgtap-perl)');
  });
  const project = shortTestsProject();
  try {
    const cluster = await deployedCluster(project, 'pg', '');
    const { POSTGRESQL_HOST, POSTGRESQL_PORT, POSTGRESQL_USER, POSTGRESQL_DATABASE } = cluster.exported;
    const connection = ['-h', POSTGRESQL_HOST, '-p', POSTGRESQL_PORT, '-U', POSTGRESQL_USER, '-d', POSTGRESQL_DATABASE];
    return { project, cluster, connection };
  } catch (error) {
    await removeShortTestsProject(project);
    throw error;
  }
}

export default {
  name: `test ${SHORT_FILES} short files, -j 2`,
  runs: 5,
  peerName: 'peer: pg_prove -j 2 (short files)',
  peerTimes,
  get targetSeconds() {
    return peerTarget(peerTimes, 0.9);
  },
  setup,
  async beforeEach(state) {
    peerTimes.push(await secondsOf(() => run('pg_prove', ['-j', '2', ...state.connection, ...state.project.files], {}, { cwd: state.project.tests })));
  },
  run: (state) => runShortTests(state.project, state.cluster),
  teardown: (state) => removeShortTestsProject(state.project),
};
