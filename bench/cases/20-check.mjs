// `database check` on the example project (SPEC §13: ≤ 0.8 s; the shell tool took 1.4 s):
// a private cluster, the bundle, the sources, test-data.sql, then teardown.
import fs from 'node:fs';
import path from 'node:path';
import { bin, ROOT, run, tempDir } from '../lib.mjs';

export default {
  name: 'check (example)',
  targetSeconds: 0.8,
  runs: 5,
  async setup() {
    const dir = tempDir('db-tool-bench-check-');
    fs.cpSync(path.join(ROOT, 'examples', 'shop'), dir, { recursive: true, filter: (source) => !source.includes(`${path.sep}focus`) });
    const env = { LOCAL_DIR: dir, ENVIRONMENT: 'example', PG_SHARED_PRELOAD_LIBRARIES: '', HECTIC_LOG: 'warn' };
    await run(bin('database'), ['check'], env); // warms the template cache
    return { dir, env };
  },
  run: (state) => run(bin('database'), ['check'], state.env),
  teardown: (state) => fs.rmSync(state.dir, { recursive: true, force: true }),
};
