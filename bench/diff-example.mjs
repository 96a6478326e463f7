// `database diff` on the example project, timed next to the same work done by hand
// (bench/diff-by-hand.mjs, issue 22 §2) on the same backup and sources, alternating, so
// both see the same machine, each once the last diff's background work is over (as
// between a user's diffs). Shared by 40-diff (this machine's disk) and 40b (a slow disk).
//
// Setup plays "production one release behind": a cluster migrated up to all but the
// last migration, backed up, stopped. Each run restores that backup into DB1 and applies
// the last migration, builds DB2 from the sources, and compares; it must find them
// identical (exit 0), or the run fails.
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { bin, median, onInterrupt, ROOT, run, tempDir } from './lib.mjs';
import { prepareByHand, removeByHand, runByHand } from './diff-by-hand.mjs';

const EXAMPLE = path.join(ROOT, 'examples', 'shop');

function copyExample(target) {
  fs.cpSync(EXAMPLE, target, { recursive: true, filter: (source) => !source.includes(`${path.sep}focus`) });
  // As root the cluster runs as PG_OS_USER, which must read the sources and migrations.
  for (const entry of fs.readdirSync(target, { recursive: true, withFileTypes: true })) {
    fs.chmodSync(path.join(entry.parentPath, entry.name), entry.isDirectory() ? 0o755 : 0o644);
  }
}

/**
 * Waits until the background work a diff leaves (a restored copy or a spare being
 * prepared, data folders being deleted) is over, so that neither timing pays for the
 * other's aftermath: the peer would otherwise run beside it.
 */
async function settled(dir) {
  // The working dir, and the RAM folders of spares (src/cluster/ram-spares.ts).
  const homes = () => [path.join(dir, 'focus', 'postgresql'), ...fs.readdirSync('/dev/shm').filter((entry) => entry.startsWith('db-tool-spares-')).map((entry) => path.join('/dev/shm', entry))];
  const entries = (home) => (fs.existsSync(home) ? fs.readdirSync(home) : []);
  const busy = () => homes().some((home) => entries(home).some((entry) => /^\.(spare-(restored-)?tmp-|trash-)/.test(entry)));
  for (const deadline = Date.now() + 300_000; busy() && Date.now() < deadline; ) await sleep(50);
}

/** The diff's steps and their durations, from its debug log (`✓ DB1: restore … 283 ms`). */
function stepTimes(stderr) {
  const steps = new Map();
  for (const [, title, value, unit] of stderr.matchAll(/✓ (.+?) ([0-9.]+) (ms|s)$/gm)) {
    const generic = title.replace(/ \/\S+/g, ' …'); // a path differs from project to project
    steps.set(generic, (steps.get(generic) ?? 0) + Number(value) * (unit === 's' ? 1000 : 1));
  }
  return steps;
}

/**
 * A bench case for the diff of the example. `disk` (optional) places the project, the
 * caches and the by-hand script's folder on another disk: `{ create() → { root, env },
 * beforeTimed(), remove(), notes() }`; `beforeTimed` runs, untimed, before each timing
 * of either side.
 */
export function diffExampleCase({ name, targetSeconds, runs = 5, onlyWhenNamed = false, disk }) {
  const peerTimes = [];
  const steps = [];
  const io = { diff: [], byHand: [] };
  let state;
  let removal;
  let stopListening = () => {};

  async function remove() {
    stopListening();
    if (state?.byHand) removeByHand(state.byHand);
    if (state?.dir) {
      await settled(state.dir);
      // Stops the cluster and removes the working dir with its spares in RAM.
      await run(bin('database'), ['cleanup'], state.env, { allowFailure: true });
      fs.rmSync(state.dir, { recursive: true, force: true });
    }
    if (state?.place) await disk.remove();
  }
  /** Runs `work`, adding to `into` what the disk served meanwhile (with a disk). */
  async function measuredIo(into, work) {
    const before = disk?.counters();
    const result = await work();
    if (disk) {
      const after = disk.counters();
      into.push(Object.fromEntries(Object.keys(after).map((key) => [key, after[key] - before[key]])));
    }
    return result;
  }

  // Once only: the interrupt handler and the runner's own teardown may both ask.
  const teardown = () => (removal ??= remove());

  return {
    name,
    targetSeconds,
    runs,
    onlyWhenNamed,
    peerName: 'peer: diff by hand (shell)',
    peerTimes,
    async setup() {
      state = {};
      stopListening = onInterrupt(teardown);
      try {
        state.place = disk ? await disk.create() : undefined;
        // On another disk a shorter name: the mount's own name makes the path longer.
        state.dir = state.place ? tempDir('diff-', state.place.root) : tempDir('db-tool-bench-diff-');
        copyExample(state.dir);
        state.env = { LOCAL_DIR: state.dir, ENVIRONMENT: 'example', PG_SHARED_PRELOAD_LIBRARIES: '', HECTIC_LOG: 'debug', ...state.place?.env };
        const migrations = fs.readdirSync(path.join(state.dir, 'db', 'migration')).filter((entry) => /^[0-9]{14}-/.test(entry));
        await run(bin('database'), ['init'], state.env);
        if (migrations.length > 1) await run(bin('database'), ['migrator', 'migrate', 'up', String(migrations.length - 1)], state.env);
        await run(bin('database'), ['backup'], state.env);
        await run(bin('postgres-cleanup'), [], state.env);
        await run(bin('database'), ['diff'], state.env); // warms the template cache; fails on a wrong answer
        state.byHand = prepareByHand(state.dir, state.place?.root);
        return state;
      } catch (error) {
        await teardown();
        throw error;
      }
    },
    async beforeEach() {
      await settled(state.dir);
      await disk?.beforeTimed();
      peerTimes.push(await measuredIo(io.byHand, () => runByHand(state.byHand)));
      await disk?.beforeTimed();
    },
    async run() {
      const { stderr } = await measuredIo(io.diff, () => run(bin('database'), ['diff'], state.env));
      steps.push(stepTimes(stderr));
    },
    teardown,
    notes() {
      const titles = [...new Set(steps.flatMap((run) => [...run.keys()]))];
      const medians = titles.map((title) => [title, median(steps.map((run) => run.get(title) ?? 0))]).sort((a, b) => b[1] - a[1]);
      const shown = medians.slice(0, 8).map(([title, ms]) => `${title} ${Math.round(ms)} ms`);
      const served = (runs) => {
        const m = (key) => median(runs.map((counts) => counts[key]));
        return `${(m('readBytes') / 1024 ** 2).toFixed(1)} MB in ${m('reads')} reads, ${(m('writeBytes') / 1024 ** 2).toFixed(1)} MB in ${m('writes')} writes`;
      };
      const ioNote = disk ? [`${name}, the disk served during a timing (medians): diff ${served(io.diff)}; by hand ${served(io.byHand)}`] : [];
      return [...(disk ? disk.notes() : []), ...ioNote, `${name}, slowest steps (medians, steps overlap): ${shown.join(', ')}`];
    },
  };
}
