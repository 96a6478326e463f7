/**
 * SPEC §17 "Security": a command's child process groups end with it, and every crash
 * leftover is listed by `database doctor`, cleared by `doctor --fix` and by the next run
 * of the same command. Real signals at the right phase: pg_basebackup is kept streaming
 * (throttled with --max-rate) while its WAL streamer holds a walsender on the server.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseExports, runBin } from './helpers/cli.js';
import { makeTempDir } from './helpers/env.js';
import { gateProgram, killEverythingBelow, slowPgProgram, watchdogsWith, type Gate } from './helpers/faults.js';
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

function gate(program: string, real: string): Gate {
  const made = gateProgram(program, real);
  cleanups.push(() => made.remove());
  return made;
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

/** pg_basebackup processes (the program and its WAL-streaming child) writing a partial backup. */
function basebackups(): number[] {
  return processesMentioning('postgresql-backup.partial-');
}

function partialBackups(project: Project): string[] {
  return focusEntries(project.dir).filter((name) => name.includes('.partial-'));
}

async function expectNoStreamerLeft(url: string): Promise<void> {
  await waitFor(async () => basebackups().length === 0 && (await walsenders(url)) === 0, 10_000, 'pg_basebackup to end').catch(() => undefined);
  expect(basebackups()).toEqual([]);
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
      await expectNoStreamerLeft(url);
      expect(partialBackups(project)).toEqual([]);
    }
    const backup = await runBin('database', ['backup'], { env });
    expect(backup.code, backup.stderr).toBe(0);
  });

  it('SIGKILL while streaming: pg_basebackup ends with it; doctor reports the partial backup, --fix and the next backup clear it', async () => {
    const { project, env } = newProject();
    const url = await startCluster(env);
    const slow = { ...env, PG_BIN_DIR: slowBasebackup() };
    const streaming = async () => (await walsenders(url)) >= 2;

    const killed = await signalWhen(['backup'], slow, streaming, 'SIGKILL', 'pg_basebackup to stream');
    expect(killed.signal).toBe('SIGKILL');
    await expectNoStreamerLeft(url);
    const [partial] = partialBackups(project);
    expect(partial).toBeDefined();

    const report = await runBin('database', ['doctor'], { env });
    expect(report.stdout).toMatch(/warn\s+leftover files\s+.*partial backup .*postgresql-backup\.partial-/);
    expect(report.stdout).toContain(partial);
    const fixed = await runBin('database', ['doctor', '--fix'], { env });
    expect(fixed.stdout).toMatch(/ok\s+leftover files\s+cleared partial backup/);
    expect(partialBackups(project)).toEqual([]);

    await signalWhen(['backup'], slow, streaming, 'SIGKILL', 'pg_basebackup to stream again');
    await expectNoStreamerLeft(url);
    expect(partialBackups(project)).toHaveLength(1);
    const next = await runBin('database', ['backup'], { env });
    expect(next.code, next.stderr).toBe(0);
    expect(partialBackups(project)).toEqual([]);
  });

  it('SIGKILL of the run and of its reaper: doctor --fix still ends the orphaned pg_basebackup and its walsenders', async () => {
    const { project, env } = newProject();
    const url = await startCluster(env);
    const marked = { ...env, PG_BIN_DIR: slowBasebackup(), DB_TOOL_TEST_MARK: 'orphan-backup' };
    const run = spawnDatabase(['backup'], marked);
    cleanups.push(() => {
      run.child.kill('SIGKILL');
    });
    await waitFor(async () => (await walsenders(url)) >= 2, 30_000, 'pg_basebackup to stream');
    // Nothing may clear up after the run: its reaper goes first.
    for (const pid of watchdogsWith('DB_TOOL_TEST_MARK=orphan-backup')) process.kill(pid, 'SIGKILL');
    run.child.kill('SIGKILL');
    await run.done;
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(basebackups().length).toBeGreaterThan(0);

    const report = await runBin('database', ['doctor'], { env });
    expect(report.stdout).toMatch(/partial backup .*still used by pid/);
    const fixed = await runBin('database', ['doctor', '--fix'], { env });
    expect(fixed.stdout).toMatch(/ok\s+leftover files\s+cleared partial backup/);
    await expectNoStreamerLeft(url);
    expect(partialBackups(project)).toEqual([]);
  });
});

describe('leftovers of killed restore and pull_staging runs', () => {
  it('restore killed while unpacking: doctor lists its scratch folder; the next restore and --fix clear it', async () => {
    const { project, env } = newProject();
    const url = await startCluster(env);
    await queryValue(url, 'CREATE TABLE precious AS SELECT 42 AS id');
    expect((await runBin('database', ['backup'], { env })).code).toBe(0);
    const workingDir = path.join(project.dir, 'focus', 'postgresql');
    const scratch = () => fs.readdirSync(workingDir).filter((name) => name.startsWith('.trash-restore-'));

    const killRestore = async () => {
      const tar = gate('tar', '/bin/tar');
      // Both tars (base and WAL) wait at the gate.
      const unpacking = () => tar.reached() && processesMentioning(path.join(workingDir, '.trash-restore-data-')).length >= 2;
      const killed = await signalWhen(['restore'], { ...env, PATH: `${tar.binDir}:${process.env.PATH ?? ''}` }, unpacking, 'SIGKILL', 'tar');
      expect(killed.signal).toBe('SIGKILL');
      // The waiting tar ends with the run (its reaper), so nothing writes there any more.
      await waitFor(() => processesMentioning(workingDir).filter((pid) => !isServer(pid)).length === 0, 10_000, 'tar to end').catch(() => undefined);
      expect(processesMentioning(path.join(workingDir, '.trash-'))).toEqual([]);
    };

    await killRestore();
    expect(scratch()).toHaveLength(1);
    const report = await runBin('database', ['doctor'], { env });
    expect(report.stdout).toMatch(/warn\s+leftover files\s+.*scratch folder .*\.trash-restore-data-/);
    const fixed = await runBin('database', ['doctor', '--fix'], { env });
    expect(fixed.stdout).toMatch(/ok\s+leftover files\s+cleared scratch folder/);
    expect(scratch()).toEqual([]);

    await killRestore();
    const left = scratch();
    expect(left).toHaveLength(1);
    const next = await runBin('database', ['restore'], { env });
    expect(next.code, next.stderr).toBe(0);
    // (Its own previous data may still be being deleted in the background.)
    expect(scratch().filter((name) => left.includes(name))).toEqual([]);
    expect(await queryValue(url, 'SELECT id FROM precious')).toBe(42);
  });

  it('pull_staging killed during the dump: doctor lists its temp file; --fix and the next pull clear it', async () => {
    const profile = makeTempDir('db-tool-faults-profile-');
    cleanups.push(() => fs.rmSync(profile, { recursive: true, force: true }));
    fs.writeFileSync(path.join(profile, 'test-data.sql'), '-- before\n');
    const ssh = gate('ssh', '/usr/bin/ssh');
    const env = {
      PROFILE_DIR: profile,
      LOCAL_DIR: profile,
      STAGING_SSH_HOST: 'staging.invalid',
      STAGING_DB_URL: 'postgresql://app@localhost/app',
      STAGING_DUMP_TABLES: 'users',
      STAGING_DUMP_FLAGS: '--data-only',
    };
    const gated = { ...env, PATH: `${ssh.binDir}:${process.env.PATH ?? ''}` };
    const temps = () => fs.readdirSync(profile).filter((name) => name.includes('.tmp-'));

    await signalWhen(['pull_staging'], gated, () => ssh.reached(), 'SIGKILL', 'ssh');
    expect(temps()).toHaveLength(1);
    const report = await runBin('database', ['doctor'], { env });
    expect(report.stdout).toMatch(/warn\s+leftover files\s+.*temp file .*\.test-data\.sql\.tmp-/);
    const fixed = await runBin('database', ['doctor', '--fix'], { env });
    expect(fixed.stdout).toMatch(/ok\s+leftover files\s+cleared temp file/);
    expect(temps()).toEqual([]);

    fs.rmSync(path.join(path.dirname(ssh.binDir), 'reached'), { force: true });
    await signalWhen(['pull_staging'], gated, () => ssh.reached(), 'SIGKILL', 'ssh again');
    expect(temps()).toHaveLength(1);
    // The next pull fails (no such host), but first clears what the killed one left.
    ssh.open();
    const next = await runBin('database', ['pull_staging'], { env: gated });
    expect(next.code).not.toBe(0);
    expect(temps()).toEqual([]);
    expect(fs.readFileSync(path.join(profile, 'test-data.sql'), 'utf8')).toBe('-- before\n');
  });
});

function isServer(pid: number): boolean {
  try {
    return /postgres/.test(fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0] ?? '');
  } catch {
    return false;
  }
}

describe('RAM folder of a killed test run', () => {
  it('doctor reports it and --fix removes it; a live run’s folder stays', async () => {
    const { project, env } = newProject();
    const url = await startCluster(env);
    const file = path.join(project.dir, 'db', 'test', 'slow.sql');
    fs.writeFileSync(file, "SELECT pg_sleep(60);\nSELECT 'ok 1';\n");
    const ramFolders = () => fs.readdirSync('/dev/shm').filter((name) => name.startsWith('db-tool-test-'));
    const before = ramFolders();
    const run = spawnDatabase(['test', file], { ...env, PGURL: url, DB_TOOL_TEST_MARK: 'ram-doctor' });
    cleanups.push(() => {
      run.child.kill('SIGKILL');
    });
    // Watched from another database: a session on the target would keep the run out of copies.
    const sleeping = async () => Number(await queryValue(urlFor(url, 'postgres'), "SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep(60)%'"));
    await waitFor(async () => (await sleeping()) > 0, 30_000, 'the test file to run');
    const made = ramFolders().filter((name) => !before.includes(name));
    cleanups.push(() => {
      for (const name of made) fs.rmSync(path.join('/dev/shm', name), { recursive: true, force: true });
    });
    // The machine has a roomy /dev/shm (the suite needs one): the copies are in RAM.
    expect(made).toHaveLength(1);
    // Killed with its watchdog: nothing clears up after it. (Any other test run on this
    // machine would: look at once.)
    for (const pid of watchdogsWith('DB_TOOL_TEST_MARK=ram-doctor')) process.kill(pid, 'SIGKILL');
    run.child.kill('SIGKILL');
    await run.done;
    // A live run's folder (ours: this process lives) must never go.
    const live = fs.mkdtempSync(path.join('/dev/shm', `db-tool-test-${process.pid}-`));
    cleanups.push(() => fs.rmSync(live, { recursive: true, force: true }));
    const report = await runBin('database', ['doctor'], { env });
    expect(report.stdout).toMatch(/warn\s+leftover files\s+.*RAM folder \/dev\/shm\/db-tool-test-/);
    expect(report.stdout).toContain(made[0]);
    expect(report.stdout).not.toContain(path.basename(live));
    const fixed = await runBin('database', ['doctor', '--fix'], { env });
    expect(fixed.code, fixed.stderr).toBe(0);
    expect(ramFolders()).not.toContain(made[0]);
    expect(fs.existsSync(live)).toBe(true);
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
      await waitFor(async () => (await sleeping()) > 0, 30_000, 'the test file to run');
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
