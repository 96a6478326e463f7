/**
 * Runs of `database` cut short on purpose (a signal while pg_basebackup streams, a test
 * file stuck in pg_sleep), shared by the fault tests: faults-interrupt (SIGINT/SIGTERM),
 * faults-killed-owner (SIGKILL, then `database doctor`) and faults-signals. Everything
 * made here is undone by the test file's `cleanups`, run after each test, also when it
 * fails.
 */
import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'vitest';
import { parseExports, runBin } from './cli.js';
import { killEverythingBelow, slowPgProgram } from './faults.js';
import { copyProject, focusEntries, processesMentioning, queryValue, spawnDatabase, urlFor, waitFor, type Project } from './project.js';

/** Steps that undo what a test made, run in reverse order after it (see `runCleanups`). */
export type Cleanups = Array<() => Promise<void> | void>;

/** Runs and empties `cleanups`, the last added first. */
export async function runCleanups(cleanups: Cleanups): Promise<void> {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
}

/** Walsenders on the server: pg_basebackup's base backup and its WAL streamer each hold one. */
export async function walsenders(url: string): Promise<number> {
  return Number(await queryValue(url, "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'walsender'"));
}

/** pg_basebackup processes (the program and its WAL-streaming child) writing a partial backup of `project`. */
export function basebackups(project: Project): number[] {
  return processesMentioning(path.join(project.dir, 'focus', 'postgresql-backup.partial-'));
}

/** Partial backups (`postgresql-backup.partial-*`) a run left in the project's focus/. */
export function partialBackups(project: Project): string[] {
  return focusEntries(project.dir).filter((name) => name.includes('.partial-'));
}

/** Waits (bounded) for the streaming to end, then asserts no pg_basebackup and no walsender is left. */
export async function expectNoStreamerLeft(url: string, project: Project): Promise<void> {
  await waitFor(async () => basebackups(project).length === 0 && (await walsenders(url)) === 0, 90_000, 'pg_basebackup to end').catch(() => undefined);
  expect(basebackups(project)).toEqual([]);
  expect(await walsenders(url)).toBe(0);
}

/** Starts the project's cluster with postgres-init and returns its URL. */
export async function startCluster(env: Record<string, string>): Promise<string> {
  const init = await runBin('postgres-init', ['--env'], { env });
  expect(init.code, init.stderr).toBe(0);
  return parseExports(init.stdout).PGURL!;
}

/** Sessions running the `pg_sleep(60)` of a stuck test file, seen from the `postgres` database. */
export async function sleepingSessions(url: string): Promise<number> {
  return Number(await queryValue(urlFor(url, 'postgres'), "SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep(60)%'"));
}

/** The test runs' RAM folders in /dev/shm (`db-tool-test-*`). */
export function ramFolders(): string[] {
  return fs.readdirSync('/dev/shm').filter((name) => name.startsWith('db-tool-test-'));
}

/** Helpers that register what they make in `cleanups`. */
export function interruptedRuns(cleanups: Cleanups) {
  /** A copy of the deploy-project fixture; its cluster is stopped and everything below it removed afterwards. */
  function clusterProject(): { project: Project; env: Record<string, string> } {
    const project = copyProject('deploy-project');
    const env = { LOCAL_DIR: project.dir, PG_SHARED_PRELOAD_LIBRARIES: '' };
    cleanups.push(async () => {
      await runBin('postgres-cleanup', [], { env });
      killEverythingBelow(project.dir);
      project.remove();
    });
    return { project, env };
  }

  /** A PG_BIN_DIR whose pg_basebackup streams at 32 kB/s: it is still copying when the signal comes. */
  function slowBasebackup(): string {
    const slow = slowPgProgram('pg_basebackup', ['--max-rate=32k']);
    cleanups.push(() => slow.remove());
    return slow.pgBinDir;
  }

  /** Starts `database ARGS`, waits for `ready`, sends `signal`; returns how it ended. */
  async function signalWhen(args: string[], env: Record<string, string>, ready: () => boolean | Promise<boolean>, signal: NodeJS.Signals, what: string) {
    const run = spawnDatabase(args, env);
    cleanups.push(() => {
      run.child.kill('SIGKILL');
    });
    try {
      await waitFor(ready, 30_000, what);
    } catch (error) {
      run.child.kill('SIGKILL');
      throw new Error(`${(error as Error).message}; stderr: ${(await run.done).stderr}`);
    }
    run.child.kill(signal);
    return run.done;
  }

  /**
   * Starts `database test` on a file stuck in `pg_sleep(60)` against the project's
   * cluster and waits until it sleeps; returns the run and the RAM folder it made.
   */
  async function stuckTestRun(project: Project, env: Record<string, string>, url: string) {
    const file = path.join(project.dir, 'db', 'test', 'slow.sql');
    fs.writeFileSync(file, "SELECT pg_sleep(60);\nSELECT 'ok 1';\n");
    const run = spawnDatabase(['test', file], { ...env, PGURL: url });
    cleanups.push(() => {
      run.child.kill('SIGKILL');
    });
    // Watched from another database: a session on the target would keep the run out of copies.
    await waitFor(async () => (await sleepingSessions(url)) > 0, 90_000, 'the test file to run');
    // Its own folder, named after its pid: other test files' runs make theirs meanwhile.
    const made = ramFolders().filter((name) => name.startsWith(`db-tool-test-${run.child.pid}-`));
    cleanups.push(() => {
      for (const name of made) fs.rmSync(path.join('/dev/shm', name), { recursive: true, force: true });
    });
    return { run, made };
  }

  return { clusterProject, slowBasebackup, signalWhen, stuckTestRun };
}
