// `migrator migrate up all` of 200 migrations (SPEC §13: ≤ 1 s; the shell tool took
// about 11 s). The down case (31-…) shares this setup. The migrations are a schema's
// typical life in groups of four: create a table, add a column, add an index, add a
// function, so the run pays for the bundle's event triggers like real projects do.
import fs from 'node:fs';
import path from 'node:path';
import { bin, run, tempDir } from '../lib.mjs';

export const MIGRATION_COUNT = 200;

/** [name, up.sql, down.sql] of the i-th migration (0-based). */
function migrationContent(i) {
  const t = `public.bench_${Math.floor(i / 4)}`;
  switch (i % 4) {
    case 0:
      return ['create-table', `CREATE TABLE ${t} (id bigint NOT NULL, label text) INHERITS (hectic.created_at);\n`, `DROP TABLE ${t};\n`];
    case 1:
      return ['add-column', `ALTER TABLE ${t} ADD COLUMN note text;\n`, `ALTER TABLE ${t} DROP COLUMN note;\n`];
    case 2:
      return ['add-index', `CREATE INDEX ON ${t} (id);\n`, `DROP INDEX public.bench_${Math.floor(i / 4)}_id_idx;\n`];
    default:
      return ['add-function', `CREATE FUNCTION ${t}_count() RETURNS bigint LANGUAGE sql STABLE AS 'SELECT count(*) FROM ${t}';\n`, `DROP FUNCTION ${t}_count();\n`];
  }
}

/** A cluster made by postgres-init, 200 migrations and the bundle applied once. */
export async function setupMigrations() {
  const dir = tempDir('db-tool-bench-migrate-');
  const env = { PG_WORKING_DIR: path.join(dir, 'pg'), PG_SHARED_PRELOAD_LIBRARIES: '' };
  const init = await run(bin('postgres-init'), ['--env'], env);
  const url = /^export PGURL='?([^'\n]*)'?$/m.exec(init.stdout)?.[1];
  if (!url) throw new Error(`postgres-init printed no PGURL: ${init.stdout}`);
  const migrations = path.join(dir, 'migration');
  for (let i = 0; i < MIGRATION_COUNT; i += 1) {
    const [kind, up, down] = migrationContent(i);
    const name = `20240101${String(i + 1).padStart(6, '0')}-${kind}`;
    fs.mkdirSync(path.join(migrations, name), { recursive: true });
    fs.writeFileSync(path.join(migrations, name, 'up.sql'), up);
    fs.writeFileSync(path.join(migrations, name, 'down.sql'), down);
  }
  const state = { dir, env, args: ['-u', url, '-d', migrations] };
  await migrator(state, 'init');
  return state;
}

export function migrator(state, ...args) {
  return run(bin('migrator'), [...state.args, ...args], { HECTIC_LOG: 'warn' });
}

export async function teardownMigrations(state) {
  await run(bin('postgres-cleanup'), [], state.env);
  fs.rmSync(state.dir, { recursive: true, force: true });
}

export default {
  name: `migrate up ${MIGRATION_COUNT}`,
  targetSeconds: 1,
  runs: 5,
  setup: setupMigrations,
  beforeEach: (state) => migrator(state, 'migrate', 'down', 'all'),
  run: (state) => migrator(state, 'migrate', 'up', 'all'),
  teardown: teardownMigrations,
};
