// `database check` on the example project (SPEC §13: ≤ 0.8 s; the shell tool took 1.4 s):
// a private cluster, the bundle, the sources, test-data.sql — and, beside them, the
// migrations from empty in a second cluster, compared with the sources — then teardown.
// Timed next to `check --no-migrations` (the check without the proof), alternating,
// so both see the same machine: the proof may cost at most 1.5 × that (SPEC §13). Nine
// pairs: on a machine loaded by other work, five medians swung by ±0.1 in the ratio.
import fs from 'node:fs';
import path from 'node:path';
import { bin, ROOT, run, secondsOf, tempDir } from '../lib.mjs';

const peerTimes = [];

export default {
  name: 'check (example)',
  targetSeconds: 0.8,
  runs: 9,
  peerName: 'peer: check --no-migrations',
  peerTimes,
  async setup() {
    const dir = tempDir('db-tool-bench-check-');
    fs.cpSync(path.join(ROOT, 'examples', 'shop'), dir, { recursive: true, filter: (source) => !source.includes(`${path.sep}focus`) });
    const env = { LOCAL_DIR: dir, ENVIRONMENT: 'example', PG_SHARED_PRELOAD_LIBRARIES: '', HECTIC_LOG: 'warn' };
    await run(bin('database'), ['check'], env); // warms the template cache
    return { dir, env };
  },
  async beforeEach(state) {
    peerTimes.push(await secondsOf(() => run(bin('database'), ['check', '--no-migrations'], state.env)));
  },
  run: (state) => run(bin('database'), ['check'], state.env),
  teardown: (state) => fs.rmSync(state.dir, { recursive: true, force: true }),
};
