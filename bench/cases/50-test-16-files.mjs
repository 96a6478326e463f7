// `database test -j 2` on 16 files of 0.25 s each (pg_sleep), side by side with
// `pg_prove -j 2` on the same files and database (SPEC §13: ≤ 1.0 × pg_prove; the sleeps
// alone are about 0.85 × of it). The runs alternate — pg_prove before each of ours — so
// both see the same machine; the peer's row is printed next to ours, and our target is
// its median. Needs pg_prove (Debian: libtap-parser-sourcehandler-pgtap-perl).
import fs from 'node:fs';
import path from 'node:path';
import { bin, peerTarget, run, secondsOf, startCluster, tempDir } from '../lib.mjs';

const FILES = 16;
const peerTimes = [];

async function setup() {
  await run('pg_prove', ['--version']).catch(() => {
    throw new Error('pg_prove is not installed (Debian: apt-get install libtap-parser-sourcehandler-pgtap-perl)');
  });
  const dir = tempDir('db-tool-bench-test-');
  const { env, exported } = await startCluster(dir);
  const tests = path.join(dir, 'test');
  fs.mkdirSync(tests);
  for (let i = 1; i <= FILES; i += 1) {
    fs.writeFileSync(path.join(tests, `t${String(i).padStart(2, '0')}.sql`), "\\echo 1..1\nSELECT pg_sleep(0.25);\nSELECT 'ok 1 - slept';\n");
  }
  const files = fs.readdirSync(tests).sort();
  const connection = ['-h', exported.POSTGRESQL_HOST, '-p', exported.POSTGRESQL_PORT, '-U', exported.POSTGRESQL_USER, '-d', exported.POSTGRESQL_DATABASE];
  return { dir, env, tests, files, url: exported.PGURL, connection };
}

export default {
  name: `test ${FILES} files × 0.25 s, -j 2`,
  runs: 5,
  peerName: 'peer: pg_prove -j 2',
  peerTimes,
  get targetSeconds() {
    return peerTarget(peerTimes, 1);
  },
  setup,
  async beforeEach(state) {
    peerTimes.push(await secondsOf(() => run('pg_prove', ['-j', '2', ...state.connection, ...state.files], {}, { cwd: state.tests })));
  },
  run: (state) => run(bin('database'), ['--url', state.url, 'test', '-j', '2', state.tests], { HECTIC_LOG: 'warn' }),
  async teardown(state) {
    await run(bin('postgres-cleanup'), [], state.env);
    fs.rmSync(state.dir, { recursive: true, force: true });
  },
};
