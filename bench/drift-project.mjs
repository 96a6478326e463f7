// The example project "one release behind" (as in 40-diff) with sources that drifted
// from the migrations: a column and an index added to shop.product. Shared by the
// cases that time diff on a drift, with and without --write-migration.
import fs from 'node:fs';
import path from 'node:path';
import { bin, ROOT, run, tempDir } from './lib.mjs';

const EXAMPLE = path.join(ROOT, 'examples', 'shop');

export async function setupDriftProject() {
  const dir = tempDir('db-tool-bench-drift-');
  fs.cpSync(EXAMPLE, dir, { recursive: true, filter: (source) => !source.includes(`${path.sep}focus`) });
  const product = path.join(dir, 'db', 'src', 'tables', 'product.sql');
  const text = fs.readFileSync(product, 'utf8').replace('REFERENCES shop.currency (code)\n)', 'REFERENCES shop.currency (code),\n    stock       integer NOT NULL DEFAULT 0\n)');
  fs.writeFileSync(product, `${text}\nCREATE INDEX IF NOT EXISTS product_name_idx ON shop.product (name);\n`);
  for (const entry of fs.readdirSync(dir, { recursive: true, withFileTypes: true })) {
    fs.chmodSync(path.join(entry.parentPath, entry.name), entry.isDirectory() ? 0o755 : 0o644);
  }
  const env = { LOCAL_DIR: dir, ENVIRONMENT: 'example', PG_SHARED_PRELOAD_LIBRARIES: '', HECTIC_LOG: process.env.HL ?? 'warn' };
  const migrations = fs.readdirSync(path.join(dir, 'db', 'migration')).filter((name) => /^[0-9]{14}-/.test(name));
  await run(bin('database'), ['init'], env);
  if (migrations.length > 1) await run(bin('database'), ['migrator', 'migrate', 'up', String(migrations.length - 1)], env);
  await run(bin('database'), ['backup'], env);
  await run(bin('postgres-cleanup'), [], env);
  return { dir, env, migrationDir: path.join(dir, 'db', 'migration'), migrations };
}

/** Removes migration folders a --write-migration run added. */
export function removeWrittenMigrations(state) {
  for (const name of fs.readdirSync(state.migrationDir)) {
    if (!state.migrations.includes(name)) fs.rmSync(path.join(state.migrationDir, name), { recursive: true, force: true });
  }
}

export async function teardownDriftProject(state) {
  await run(bin('database'), ['cleanup'], state.env, { allowFailure: true }); // the spares in RAM too
  fs.rmSync(state.dir, { recursive: true, force: true });
}
