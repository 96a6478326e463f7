/**
 * SPEC §17 "Security": a command's child process groups end with it (real SIGINT and
 * SIGTERM while pg_basebackup streams, throttled with --max-rate, its WAL streamer
 * holding a walsender); a start that fails stops its server; a cluster wiped under a
 * running test takes its RAM folder with it. (The SIGKILL cases, which `database doctor`
 * must report, are in faults-killed-owner.test.ts.)
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseExports, runBin } from './helpers/cli.js';
import { killEverythingBelow, slowPgProgram } from './helpers/faults.js';
import { copyProject, databaseOf, focusEntries, processesMentioning, queryValue, serversBelow, spawnDatabase, urlFor, waitFor, type Project } from './helpers/project.js';

const cleanups: Array<() => Promise<void> | void> = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function newProject(): { project: Project; env: Record<string, string> } {
  const project = copyProject('deploy-project');
  const env = { LOCAL_DIR: project.dir, PG_SHARED_PRELOAD_LIBRARIES: '' };
  cleanups.push(async () => {
    await runBin('postgres-cleanup', [], { env });
    killEverythingBelow(project.dir);
    project.remove();
  });
  return { project, env };
}

async function startCluster(env: Record<string, string>): Promise<string> {
  const init = await runBin('postgres-init', ['--env'], { env });
  expect(init.code, init.stderr).toBe(0);
  return parseExports(init.stdout).PGURL!;
}

/** A pg_basebackup that streams at 32 kB/s: it is still copying when the signal comes. */
function slowBasebackup(): string {
  const slow = slowPgProgram('pg_basebackup', ['--max-rate=32k']);
  cleanups.push(() => slow.remove());
  return slow.pgBinDir;
}

/** Walsenders on the server: pg_basebackup's base backup and its WAL streamer each hold one. */
async function walsenders(url: string): Promise<number> {
  return Number(await queryValue(url, "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'walsender'"));
}

/** pg_basebackup processes (the program and its WAL-streaming child) writing a partial backup of `project`. */
function basebackups(project: Project): number[] {
  return processesMentioning(path.join(project.dir, 'focus', 'postgresql-backup.partial-'));
}

function partialBackups(project: Project): string[] {
  return focusEntries(project.dir).filter((name) => name.includes('.partial-'));
}

async function expectNoStreamerLeft(url: string, project: Project): Promise<void> {
  await waitFor(async () => basebackups(project).length === 0 && (await walsenders(url)) === 0, 90_000, 'pg_basebackup to end').catch(() => undefined);
  expect(basebackups(project)).toEqual([]);
  expect(await walsenders(url)).toBe(0);
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

describe('interrupted database backup', () => {
  it('SIGTERM and SIGINT while streaming: exit 143/130, no pg_basebackup and no walsender left, the next backup works', async () => {
    const { project, env } = newProject();
    const url = await startCluster(env);
    const slow = { ...env, PG_BIN_DIR: slowBasebackup() };
    for (const [signal, code] of [['SIGTERM', 143], ['SIGINT', 130], ['SIGTERM', 143]] as const) {
      const result = await signalWhen(['backup'], slow, async () => (await walsenders(url)) >= 2, signal, 'pg_basebackup to stream');
      expect(result.code, result.stderr).toBe(code);
      await expectNoStreamerLeft(url, project);
      expect(partialBackups(project)).toEqual([]);
    }
    const backup = await runBin('database', ['backup'], { env });
    expect(backup.code, backup.stderr).toBe(0);
  });

});

describe('a start that fails after the server runs', () => {
  it('postgres-init --reuse whose database cannot be made: exit non-zero and no server left', async () => {
    const { project, env } = newProject();
    const url = await startCluster(env);
    const admin = urlFor(url, 'postgres');
    // The server comes up, but read-only: the missing database cannot be created.
    await queryValue(admin, 'ALTER SYSTEM SET default_transaction_read_only = on');
    await queryValue(admin, `DROP DATABASE ${databaseOf(url)}`);
    expect((await runBin('postgres-cleanup', [], { env })).code).toBe(0);
    const init = await runBin('postgres-init', ['--reuse'], { env });
    expect(init.code, init.stderr).not.toBe(0);
    expect(init.stderr).toMatch(/read-only/);
    expect(serversBelow(project.dir)).toEqual([]);
  });
});

describe('a cluster wiped or removed under a running test', () => {
  for (const command of [['deploy', '--no-patch'], ['cleanup']]) {
    it(`database ${command[0]} removes the test run's RAM tablespace folder with the cluster`, async () => {
      const { project, env } = newProject();
      const url = await startCluster(env);
      const file = path.join(project.dir, 'db', 'test', 'slow.sql');
      fs.writeFileSync(file, "SELECT pg_sleep(60);\nSELECT 'ok 1';\n");
      const ramFolders = () => fs.readdirSync('/dev/shm').filter((name) => name.startsWith('db-tool-test-'));
      const before = ramFolders();
      const run = spawnDatabase(['test', file], { ...env, PGURL: url });
      cleanups.push(() => {
        run.child.kill('SIGKILL');
      });
      // Watched from another database: a session on the target would keep the run out of copies.
      const sleeping = async () => Number(await queryValue(urlFor(url, 'postgres'), "SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep(60)%'"));
      await waitFor(async () => (await sleeping()) > 0, 90_000, 'the test file to run');
      const made = ramFolders().filter((name) => !before.includes(name));
      cleanups.push(() => {
        for (const name of made) fs.rmSync(path.join('/dev/shm', name), { recursive: true, force: true });
      });
      expect(made).toHaveLength(1);
      const wipe = await runBin('database', command, { env });
      expect(wipe.code, wipe.stderr).toBe(0);
      expect((await run.done).code).not.toBe(0);
      expect(ramFolders()).not.toContain(made[0]);
    });
  }
});
