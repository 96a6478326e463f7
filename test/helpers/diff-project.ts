/**
 * A fixture project for `database diff` tests: a copy of test/fixtures/diff/<name> (or of
 * the folder at an absolute path) with
 * a backup of a cluster migrated up to `backupAfter` migrations, the cluster stopped.
 * Drift cases point DATABASE_SOURCE / MIGRATION_DIR at edited copies (`variant`).
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseExports, runBin, type CliResult } from './cli.js';
import { queryValue } from './project.js';
import { makeDiskTempDir, makeTempDir, ROOT } from './env.js';

export interface DiffProject {
  dir: string;
  env: Record<string, string>;
  /** A copy of `db/<folder>` with edits applied (file → [from, to] replacements or new content). */
  variant(folder: 'src' | 'migration', name: string, edits: Record<string, Array<[string, string]> | string>): string;
  remove(): Promise<void>;
}

function copyTree(from: string, to: string): void {
  fs.cpSync(from, to, { recursive: true });
  // As root the cluster runs as PG_OS_USER, which must read the files (psql \ir, migrations).
  for (const entry of fs.readdirSync(to, { recursive: true, withFileTypes: true })) {
    fs.chmodSync(path.join(entry.parentPath, entry.name), entry.isDirectory() ? 0o755 : 0o644);
  }
}

async function must(result: Promise<CliResult>, what: string): Promise<void> {
  const done = await result;
  if (done.code !== 0) throw new Error(`${what} failed (${done.code}): ${done.stderr}`);
}

/** `onDisk`: the project on a disk, not in the suite's RAM folder (makeDiskTempDir). */
export async function makeDiffProject(fixture: string, backupAfter: number, extraEnv: Record<string, string> = {}, options: { onDisk?: boolean } = {}): Promise<DiffProject> {
  const dir = options.onDisk ? makeDiskTempDir('db-tool-diff-') : makeTempDir('db-tool-diff-');
  copyTree(path.isAbsolute(fixture) ? fixture : path.join(ROOT, 'test', 'fixtures', 'diff', fixture), dir);
  const env = { LOCAL_DIR: dir, PG_SHARED_PRELOAD_LIBRARIES: '', ...extraEnv };
  const remove = async (): Promise<void> => {
    // The working dir goes with its spares in RAM; a test that put something of its own
    // there only gets its cluster stopped.
    if ((await runBin('database', ['cleanup'], { env })).code !== 0) await runBin('postgres-cleanup', [], { env });
    fs.rmSync(dir, { recursive: true, force: true });
  };
  try {
    await must(runBin('database', ['init'], { env }), 'database init');
    await must(runBin('database', ['migrator', 'migrate', 'up', String(backupAfter)], { env }), 'migrate up');
    await must(runBin('database', ['backup'], { env }), 'database backup');
    await must(runBin('postgres-cleanup', [], { env }), 'postgres-cleanup');
  } catch (error) {
    await remove();
    throw error;
  }
  const variant: DiffProject['variant'] = (folder, name, edits) => {
    const target = path.join(dir, 'variants', name, folder);
    copyTree(path.join(dir, 'db', folder), target);
    for (const [file, edit] of Object.entries(edits)) {
      const full = path.join(target, file);
      fs.mkdirSync(path.dirname(full), { recursive: true, mode: 0o755 });
      let text = typeof edit === 'string' ? edit : fs.readFileSync(full, 'utf8');
      if (typeof edit !== 'string') {
        for (const [from, to] of edit) {
          if (!text.includes(from)) throw new Error(`${file} does not contain ${from}`);
          text = text.replace(from, to);
        }
      }
      fs.writeFileSync(full, text, { mode: 0o644 });
    }
    for (let up = path.join(dir, 'variants', name); up.startsWith(dir) && up !== dir; up = path.dirname(up)) fs.chmodSync(up, 0o755);
    return target;
  };
  return { dir, env, variant, remove };
}

/**
 * Backs the project's cluster up again after `statements` (ALTER SYSTEM… as production
 * has them: they travel in the backup's postgresql.auto.conf), then stops it.
 */
export async function backupAfterStatements(project: Pick<DiffProject, 'env'>, statements: readonly string[]): Promise<void> {
  const started = await runBin('postgres-init', ['--env'], { env: { ...project.env, PG_REUSE: '1' } });
  if (started.code !== 0) throw new Error(`postgres-init failed (${started.code}): ${started.stderr}`);
  const url = Object.values(parseExports(started.stdout)).find((value) => value.startsWith('postgresql://'));
  if (!url) throw new Error(`postgres-init exported no URL: ${started.stdout}`);
  for (const statement of statements) await queryValue(url, statement);
  await must(runBin('database', ['backup'], { env: project.env }), 'database backup');
  await must(runBin('postgres-cleanup', [], { env: project.env }), 'postgres-cleanup');
}

/**
 * The dynamic shared memory segments (/dev/shm/PostgreSQL.N) these servers have mapped.
 * A postmaster frees them when it shuts down (fast or immediate), not when it is killed.
 */
export function sharedMemoryOf(pids: readonly number[]): string[] {
  const segments = new Set<string>();
  for (const pid of pids) {
    let maps = '';
    try {
      maps = fs.readFileSync(`/proc/${pid}/maps`, 'utf8');
    } catch {
      continue;
    }
    for (const match of maps.matchAll(/(\/dev\/shm\/PostgreSQL\.\d+)/g)) segments.add(match[1] as string);
  }
  return [...segments];
}

/** The `database-diff-*` run folders of a project and what each still holds. */
export function diffRunFolders(dir: string): Record<string, string[]> {
  const focus = path.join(dir, 'focus');
  const runs: Record<string, string[]> = {};
  if (!fs.existsSync(focus)) return runs;
  for (const name of fs.readdirSync(focus).filter((entry) => entry.startsWith('database-diff-'))) {
    runs[name] = fs.readdirSync(path.join(focus, name)).sort();
  }
  return runs;
}
