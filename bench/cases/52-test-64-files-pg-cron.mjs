// `database test -j 2` on 64 short files over the example project, in a cluster with
// pg_cron preloaded (the default) — its scheduler stays connected to the target, so the
// run moves it aside for its snapshot — next to the same run in a cluster without it
// (SPEC §13: ≤ 1.1 × that). The runs alternate, the peer first, so both see the same
// machine; the peer's row is printed next to ours with the ratio. Needs pg_cron.
import fs from 'node:fs';
import path from 'node:path';
import { bin, median, ROOT, run, tempDir } from '../lib.mjs';

const FILES = 64;
const peerTimes = [];

/** A project cluster (postgres-init) with `preload`, the example deployed in it. */
async function deployedCluster(dir, name, preload) {
  const env = { LOCAL_DIR: dir, ENVIRONMENT: 'example', PG_WORKING_DIR: path.join(dir, name), PG_SHARED_PRELOAD_LIBRARIES: preload, HECTIC_LOG: 'warn' };
  await run(bin('database'), ['deploy'], env);
  const init = await run(bin('postgres-init'), ['--reuse', '--env'], env);
  const url = /^export PGURL='?([^'\n]*)'?$/m.exec(init.stdout)?.[1];
  if (!url) throw new Error(`postgres-init printed no PGURL: ${init.stdout}`);
  return { env, url };
}

async function setup() {
  const dir = tempDir('db-tool-bench-cron-');
  fs.cpSync(path.join(ROOT, 'examples', 'shop'), dir, { recursive: true, filter: (source) => !source.includes(`${path.sep}focus`) });
  const tests = path.join(dir, 'short-tests');
  fs.mkdirSync(tests);
  for (let i = 1; i <= FILES; i += 1) {
    fs.writeFileSync(path.join(tests, `t${String(i).padStart(2, '0')}.sql`), "\\echo 1..1\nSELECT 'ok 1 - ' || count(*) || ' currencies' FROM shop.currency;\n");
  }
  const state = { dir, tests, clusters: [] };
  try {
    const withCron = await deployedCluster(dir, 'pg-cron', 'pg_cron');
    state.clusters.push(withCron);
    const check = await run('psql', ['-XAtc', "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'pg_cron launcher'", withCron.url]);
    if (check.stdout.trim() !== '1') throw new Error('pg_cron is not installed for this PostgreSQL (Debian: postgresql-15-cron)');
    state.clusters.push(await deployedCluster(dir, 'pg-plain', ''));
    state.withCron = withCron;
    state.plain = state.clusters[1];
  } catch (error) {
    await teardown(state);
    throw error;
  }
  return state;
}

async function teardown(state) {
  for (const cluster of state.clusters) await run(bin('postgres-cleanup'), [], cluster.env, { allowFailure: true });
  fs.rmSync(state.dir, { recursive: true, force: true });
}

const testRun = (state, cluster) => run(bin('database'), ['--url', cluster.url, 'test', '-j', '2', state.tests], { LOCAL_DIR: state.dir, HECTIC_LOG: 'warn' });

export default {
  name: `test ${FILES} short files, pg_cron`,
  runs: 5,
  peerName: 'peer: the same without pg_cron',
  peerTimes,
  get targetSeconds() {
    return peerTimes.length > 0 ? Number((1.1 * median(peerTimes)).toFixed(3)) : undefined;
  },
  setup,
  async beforeEach(state) {
    const started = performance.now();
    await testRun(state, state.plain);
    peerTimes.push((performance.now() - started) / 1000);
  },
  run: (state) => testRun(state, state.withCron),
  teardown,
};
