// `database diff` on the example project (SPEC §13: ≤ 2 s and ≤ 0.3 × the floor; the
// shell tool took 2.8 s and reported differences on identical databases). Setup plays
// "production one release behind": a cluster migrated up to all but the last
// migration, backed up, stopped. Each run restores that backup into DB1 and applies the
// last migration, builds DB2 from the sources, and compares; it must find them
// identical (exit 0), or the run fails.
//
// Timed next to the same work done by hand (bench/diff-by-hand.mjs, issue 22 §2) on
// the same backup and sources, alternating, so both see the same machine, each once the
// last diff's background work is over (as between a user's diffs); the raw floor
// (00-floor) stays in the table's last column.
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { bin, ROOT, run, tempDir } from '../lib.mjs';
import { prepareByHand, removeByHand, runByHand } from '../diff-by-hand.mjs';

const EXAMPLE = path.join(ROOT, 'examples', 'shop');

function copyExample(target) {
  fs.cpSync(EXAMPLE, target, { recursive: true, filter: (source) => !source.includes(`${path.sep}focus`) });
  // As root the cluster runs as PG_OS_USER, which must read the sources and migrations.
  for (const entry of fs.readdirSync(target, { recursive: true, withFileTypes: true })) {
    fs.chmodSync(path.join(entry.parentPath, entry.name), entry.isDirectory() ? 0o755 : 0o644);
  }
}

const peerTimes = [];

/**
 * Waits until the background work a diff leaves (a restored copy or a spare being
 * prepared, data folders being deleted) is over, so that neither timing pays for the
 * other's aftermath: the peer would otherwise run beside it.
 */
async function settled(dir) {
  const workingDir = path.join(dir, 'focus', 'postgresql');
  const busy = () => (fs.existsSync(workingDir) ? fs.readdirSync(workingDir) : []).some((entry) => /^\.(spare-(restored-)?tmp-|trash-)/.test(entry));
  for (const deadline = Date.now() + 120_000; busy() && Date.now() < deadline; ) await sleep(50);
}

export default {
  name: 'diff (example, identical)',
  targetSeconds: 2,
  runs: 5,
  peerName: 'peer: diff by hand (shell)',
  peerTimes,
  async setup() {
    const dir = tempDir('db-tool-bench-diff-');
    copyExample(dir);
    const env = { LOCAL_DIR: dir, ENVIRONMENT: 'example', PG_SHARED_PRELOAD_LIBRARIES: '', HECTIC_LOG: 'warn' };
    const migrations = fs.readdirSync(path.join(dir, 'db', 'migration')).filter((name) => /^[0-9]{14}-/.test(name));
    await run(bin('database'), ['init'], env);
    if (migrations.length > 1) await run(bin('database'), ['migrator', 'migrate', 'up', String(migrations.length - 1)], env);
    await run(bin('database'), ['backup'], env);
    await run(bin('postgres-cleanup'), [], env);
    await run(bin('database'), ['diff'], env); // warms the template cache; fails on a wrong answer
    return { dir, env, byHand: prepareByHand(dir) };
  },
  async beforeEach(state) {
    await settled(state.dir);
    const started = performance.now();
    await runByHand(state.byHand);
    peerTimes.push((performance.now() - started) / 1000);
  },
  run: (state) => run(bin('database'), ['diff'], state.env),
  async teardown(state) {
    removeByHand(state.byHand);
    await run(bin('postgres-cleanup'), [], state.env, { allowFailure: true });
    fs.rmSync(state.dir, { recursive: true, force: true });
  },
};
