/**
 * For the `database branch` cases (60-, 61-): a git repository whose project cluster
 * (pg_cron preloaded, the default) holds a 100 MB database on branch main, with one
 * applied migration, and a branch `other` that has a database of its own.
 */
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { bin, env, run, tempDir } from './lib.mjs';

export function git(dir, ...args) {
  const result = spawnSync('git', ['-c', 'user.email=bench@example.com', '-c', 'user.name=bench', '-c', 'core.hooksPath=/dev/null', ...args], { cwd: dir, env: env({ GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null' }), encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`git ${args.join(' ')}: ${result.stderr}`);
}

export async function branchProject() {
  const dir = tempDir('db-tool-bench-branch-');
  const clusterEnv = { LOCAL_DIR: dir, HECTIC_LOG: 'warn', HECTIC_INHERITANCE_EXCLUDED_SCHEMAS: '*' };
  const state = { dir, env: clusterEnv };
  try {
    git(dir, 'init', '-q', '-b', 'main');
    fs.writeFileSync(path.join(dir, '.gitignore'), 'focus/\n');
    const migration = path.join(dir, 'db', 'migration', '20240101000000-big');
    fs.mkdirSync(migration, { recursive: true });
    // About 100 MB: 400 000 rows of 200 bytes and their primary key.
    fs.writeFileSync(path.join(migration, 'up.sql'), "CREATE TABLE big (id int PRIMARY KEY, payload text);\nINSERT INTO big SELECT g, repeat(md5(g::text), 6) FROM generate_series(1, 400000) g;\n");
    git(dir, 'add', '-A');
    git(dir, 'commit', '-qm', 'big');
    await run(bin('database'), ['init'], clusterEnv, { cwd: dir });
    await run(bin('database'), ['migrator', 'migrate', 'up'], clusterEnv, { cwd: dir });
    await run(bin('database'), ['branch', 'switch', 'main'], clusterEnv, { cwd: dir });
    git(dir, 'branch', 'other');
    await run(bin('database'), ['branch', 'switch', 'other'], clusterEnv, { cwd: dir });
  } catch (error) {
    await dropBranchProject(state);
    throw error;
  }
  return state;
}

export const switchTo = (state, name) => run(bin('database'), ['branch', 'switch', name], state.env, { cwd: state.dir });

export async function dropBranchProject(state) {
  await run(bin('postgres-cleanup'), [], state.env, { allowFailure: true });
  fs.rmSync(state.dir, { recursive: true, force: true });
}
