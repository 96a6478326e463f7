// Fresh postgres-init with a warm template cache (SPEC §13: ≤ 0.45 s median).
import fs from 'node:fs';
import path from 'node:path';
import { bin, run, tempDir } from '../lib.mjs';

export default {
  name: 'postgres-init (fresh, warm cache)',
  targetSeconds: 0.45,
  runs: 7,
  async setup() {
    const dir = tempDir();
    const env = { PG_WORKING_DIR: path.join(dir, 'pg') };
    await run(bin('postgres-init'), [], env); // warms the template cache
    return { dir, env };
  },
  run: (state) => run(bin('postgres-init'), [], state.env),
  async teardown(state) {
    await run(bin('postgres-cleanup'), [], state.env);
    fs.rmSync(state.dir, { recursive: true, force: true });
  },
};
