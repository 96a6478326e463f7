/**
 * SPEC §12: a private cluster never outlives its owner. `check` and `diff` killed with
 * SIGKILL at several points leave, within seconds, no server, no other process, no run
 * folder (diff: only its logs) and no RAM data; `deploy --cleanup` killed leaves its
 * server stopped and its data in place; test clones of a killed run are dropped. What a
 * crash leaves when even the watchdog is gone is reported by `database doctor` and
 * cleared by `--fix` (or the next run) — never a live run's cluster, nor the project
 * cluster of postgres-init. So are RAM spares whose working dir was deleted by hand.
 * (`doctor --fix` clears what any run on the machine left: all its tests are here, one
 * after the other, so that none clears another's leftovers before it looks.)
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { spareHomeOf } from '../src/cluster/ram-spares.js';
import { runBin } from './helpers/cli.js';
import { makeDiskTempDir, makeTempDir } from './helpers/env.js';
import { makeDiffProject, type DiffProject } from './helpers/diff-project.js';
import { gateProgram, killEverythingBelow, leftoversBelow, NOTHING_LEFT, watchdogsWith, type Gate } from './helpers/faults.js';
import { basebackups, expectNoStreamerLeft, interruptedRuns, partialBackups, ramFolders, runCleanups, startCluster, walsenders, type Cleanups } from './helpers/interrupted-runs.js';
import { copyProject, focusEntries, processesMentioning, queryValue, serversBelow, spawnDatabase, urlFor, waitFor, withDb, type Project } from './helpers/project.js';

const cleanups: Cleanups = [];
const { clusterProject, slowBasebackup, signalWhen, stuckTestRun } = interruptedRuns(cleanups);

afterEach(() => runCleanups(cleanups));

function newProject(): Project {
  const project = copyProject('deploy-project');
  cleanups.push(() => {
    killEverythingBelow(project.dir);
    project.remove();
  });
  return project;
}

function projectEnv(project: { dir: string }, extra: Record<string, string> = {}): Record<string, string> {
  return { LOCAL_DIR: project.dir, PG_SHARED_PRELOAD_LIBRARIES: '', ...extra };
}

function gate(program: string, real: string): Gate {
  const made = gateProgram(program, real);
  cleanups.push(() => made.remove());
  return made;
}

/** Starts `database ARGS`, waits for `ready`, kills it with SIGKILL, returns when it is gone. */
async function killWhen(args: string[], env: Record<string, string>, ready: () => boolean, what: string): Promise<void> {
  const result = await signalWhen(args, env, ready, 'SIGKILL', what);
  expect(result.signal).toBe('SIGKILL');
}

/** The migrator's scratch folders in /dev/shm of runs that are gone (migration-scratch.ts names them by pid). */
function deadMigrationScratch(): string[] {
  const gone = (pid: number): boolean => {
    try {
      process.kill(pid, 0);
      return false;
    } catch (error) {
      return (error as NodeJS.ErrnoException).code === 'ESRCH';
    }
  };
  const entries = fs.existsSync('/dev/shm') ? fs.readdirSync('/dev/shm') : [];
  return entries.filter((name) => {
    const pid = Number(/^db-tool-migrate-(\d+)-/.exec(name)?.[1]);
    return pid > 0 && gone(pid);
  });
}

/** Waits until nothing of the runs below `dir` is left (the watchdog acts within seconds). */
async function expectClearedBelow(dir: string): Promise<void> {
  await waitFor(() => JSON.stringify(leftoversBelow(dir)) === JSON.stringify(NOTHING_LEFT), 90_000, `nothing left below ${dir}`).catch(() => undefined);
  expect(leftoversBelow(dir)).toEqual(NOTHING_LEFT);
}

describe('database check killed with SIGKILL', () => {
  it('while copying the template: the copy is stopped and nothing is left', async () => {
    const project = newProject();
    const cp = gate('cp', '/bin/cp');
    const env = projectEnv(project, { PATH: `${cp.binDir}:${process.env.PATH ?? ''}` });
    await killWhen(['check'], env, () => cp.reached(), 'the template copy');
    await expectClearedBelow(project.dir);
    await waitFor(() => focusEntries(project.dir).length === 0, 90_000, 'the run folder to go').catch(() => undefined);
    expect(focusEntries(project.dir)).toEqual([]);
  });

  for (const [step, file, marker] of [
    ['hydrate', 'db/src/entrypoint.sql', 'entrypoint.sql'],
    ['patch', 'test-data.sql', 'test-data.sql'],
  ] as const) {
    it(`during ${step}: server, psql, run folder and RAM data are gone within seconds`, async () => {
      const project = newProject();
      fs.appendFileSync(path.join(project.dir, file), '\nSELECT pg_sleep(60);\n');
      await killWhen(['check'], projectEnv(project), () => processesMentioning(`-f ${path.join(project.dir, file)}`).length > 0, `psql running ${marker}`);
      await expectClearedBelow(project.dir);
      await waitFor(() => focusEntries(project.dir).length === 0, 90_000, 'the run folder to go').catch(() => undefined);
      expect(focusEntries(project.dir)).toEqual([]);
    });
  }
});

describe('database diff killed with SIGKILL', () => {
  let project: DiffProject;

  async function diffProject(): Promise<DiffProject> {
    project = await makeDiffProject('shop', 1);
    cleanups.push(async () => {
      killEverythingBelow(project.dir);
      await project.remove();
    });
    return project;
  }

  /** After a killed diff: only `logs/` may stay in its run folder. */
  function runFolderContents(dir: string): string[][] {
    const focus = path.join(dir, 'focus');
    return fs.readdirSync(focus).filter((name) => name.startsWith('database-diff-')).map((name) => fs.readdirSync(path.join(focus, name)));
  }

  it('while restoring the backup (tar) and while building DB2 (hydrate): nothing but logs is left', async () => {
    const diff = await diffProject();
    const tar = gate('tar', '/bin/tar');
    const env = { ...diff.env, PATH: `${tar.binDir}:${process.env.PATH ?? ''}` };
    await killWhen(['diff'], env, () => tar.reached(), 'tar restoring the backup');
    await expectClearedBelow(diff.dir);
    await waitFor(() => runFolderContents(diff.dir).every((entries) => entries.join() === 'logs'), 90_000, 'the run folder to go').catch(() => undefined);
    expect(runFolderContents(diff.dir).every((entries) => entries.join() === 'logs')).toBe(true);

    fs.appendFileSync(path.join(diff.dir, 'db', 'src', 'entrypoint.sql'), '\nSELECT pg_sleep(60);\n');
    await killWhen(['diff'], diff.env, () => processesMentioning(`-f ${path.join(diff.dir, 'db', 'src', 'entrypoint.sql')}`).length > 0, 'DB2 hydrate');
    await expectClearedBelow(diff.dir);
    await waitFor(() => runFolderContents(diff.dir).every((entries) => entries.join() === 'logs'), 90_000, 'the run folders to go').catch(() => undefined);
    expect(runFolderContents(diff.dir).every((entries) => entries.join() === 'logs')).toBe(true);
  });

  it('while migrating DB1: nothing but logs is left', async () => {
    const diff = await diffProject();
    // The migration tells us it runs (a server-side COPY to a file), then sleeps.
    const marker = path.join(diff.dir, 'migrating');
    fs.chmodSync(diff.dir, 0o777);
    const migration = path.join(diff.dir, 'db', 'migration', '20240201000000-prices', 'up.sql');
    fs.appendFileSync(migration, `\nCOPY (SELECT 1) TO '${marker}';\nSELECT pg_sleep(60);\n`);
    // The killed run's migration scratch folder (in /dev/shm) is the next run's to clear
    // (migration-scratch.ts); no next run comes here, so the test removes it. Only the
    // folders of runs that are gone: other test files' live runs keep theirs.
    cleanups.push(() => {
      for (const name of deadMigrationScratch()) fs.rmSync(path.join('/dev/shm', name), { recursive: true, force: true });
    });
    await killWhen(['diff'], diff.env, () => fs.existsSync(marker), 'DB1 migrating');
    await expectClearedBelow(diff.dir);
    await waitFor(() => runFolderContents(diff.dir).every((entries) => entries.join() === 'logs'), 90_000, 'the run folder to go').catch(() => undefined);
    expect(runFolderContents(diff.dir).every((entries) => entries.join() === 'logs')).toBe(true);
  });
});

describe('database deploy --cleanup killed with SIGKILL', () => {
  it('its watchdog stops the project server and removes nothing', async () => {
    const project = newProject();
    fs.appendFileSync(path.join(project.dir, 'test-data.sql'), '\nSELECT pg_sleep(60);\n');
    const env = projectEnv(project);
    await killWhen(['deploy', '--cleanup'], env, () => processesMentioning(`-f ${path.join(project.dir, 'test-data.sql')}`).length > 0, 'patch');
    const workingDir = path.join(project.dir, 'focus', 'postgresql');
    await waitFor(() => serversBelow(project.dir).length === 0, 90_000, 'the server to stop').catch(() => undefined);
    expect(serversBelow(project.dir)).toEqual([]);
    expect(fs.existsSync(path.join(workingDir, 'data', 'PG_VERSION'))).toBe(true);
    // The stale lock of the killed deploy does not block the next start.
    const again = await runBin('database', ['init', '--reuse'], { env });
    expect(again.code, again.stderr).toBe(0);
    await runBin('postgres-cleanup', [], { env });
  });
});

describe('test copies of a killed run', () => {
  it('are dropped by the watchdog; doctor --fix drops those of dead runs, never a live one', async () => {
    const { project, env } = clusterProject();
    const url = await startCluster(env);
    const tests = path.join(project.dir, 'db', 'test');
    fs.writeFileSync(path.join(tests, 'a-sleeps.sql'), "SELECT pg_sleep(60);\nSELECT 'ok 1';\n");
    fs.writeFileSync(path.join(tests, 'b-quick.sql'), "SELECT 'ok 1';\n");
    const admin = (sql: string) => withDb(urlFor(url, 'postgres'), async (client) => (await client.query(sql)).rows as Array<Record<string, string>>);
    const copiesOf = async (pid: number) => (await admin(`SELECT datname FROM pg_database WHERE datname LIKE 'dbtool\\_test\\_${pid}\\_%' UNION ALL SELECT spcname FROM pg_tablespace WHERE spcname = 'dbtool_test_${pid}'`)).map((row) => Object.values(row)[0]);
    const run = spawnDatabase(['test', '-j', '2', tests], { ...env, PGURL: url });
    cleanups.push(() => {
      run.child.kill('SIGKILL');
    });
    const pid = run.child.pid!;
    let sleeping = false;
    await waitFor(async () => {
      sleeping = (await admin("SELECT 1 FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep(60)%'")).length > 0;
      return sleeping;
    }, 90_000, 'the sleeping test file');
    expect((await copiesOf(pid)).length).toBeGreaterThan(0);
    run.child.kill('SIGKILL');
    await run.done;
    await waitFor(async () => (await copiesOf(pid)).length === 0, 90_000, 'the copies to be dropped').catch(() => undefined);
    expect(await copiesOf(pid)).toEqual([]);
    expect(fs.readdirSync('/dev/shm').filter((name) => name.startsWith(`db-tool-test-${pid}-`))).toEqual([]);

    // Without a watchdog: a copy of a dead pid goes at `doctor --fix`, a live owner's stays.
    await admin('CREATE DATABASE dbtool_test_999999999_1');
    await admin(`CREATE DATABASE dbtool_test_${process.pid}_1`);
    const report = await runBin('database', ['doctor'], { env: { ...env, PGURL: url } });
    expect(report.stdout).toMatch(/warn\s+test clones\s+.*dbtool_test_999999999_1/);
    expect(report.stdout).not.toContain(`dbtool_test_${process.pid}_1`);
    const fixed = await runBin('database', ['doctor', '--fix'], { env: { ...env, PGURL: url } });
    expect(fixed.stdout).toMatch(/dropped dbtool_test_999999999_1/);
    expect((await admin("SELECT datname FROM pg_database WHERE datname LIKE 'dbtool%' ORDER BY 1")).map((row) => row.datname)).toEqual([`dbtool_test_${process.pid}_1`]);
    expect(await queryValue(url, 'SELECT 1')).toBe(1);
  });
});

describe('crash leftovers without a watchdog', () => {
  /** Starts a check that hydrates (sleeping), marked so its watchdog can be found. */
  async function hydratingCheck(project: Project, mark: string): Promise<{ run: string; kill: () => Promise<void> }> {
    const env = projectEnv(project, { DB_TOOL_TEST_MARK: mark });
    const before = focusEntries(project.dir);
    const run = spawnDatabase(['check'], env);
    cleanups.push(() => {
      run.child.kill('SIGKILL');
    });
    const entrypoint = path.join(project.dir, 'db', 'src', 'entrypoint.sql');
    const runs = () => focusEntries(project.dir).filter((name) => name.startsWith('postgresql-check-') && !before.includes(name));
    await waitFor(() => runs().length === 1 && processesMentioning(`host=${path.join(project.dir, 'focus', runs()[0]!)}`).length > 0 && processesMentioning(`-f ${entrypoint}`).length > 0, 90_000, `check ${mark} to hydrate`);
    return {
      run: runs()[0]!,
      kill: async () => {
        // The watchdog first, so that nothing clears up after the run.
        for (const pid of watchdogsWith(`DB_TOOL_TEST_MARK=${mark}`)) process.kill(pid, 'SIGKILL');
        run.child.kill('SIGKILL');
        await run.done;
      },
    };
  }

  it('doctor reports them, --fix clears them; a live run and the project cluster are left alone', async () => {
    const project = newProject();
    const env = projectEnv(project);
    const init = await runBin('postgres-init', [], { env });
    expect(init.code, init.stderr).toBe(0);
    cleanups.push(async () => {
      await runBin('postgres-cleanup', [], { env });
    });
    const projectServers = serversBelow(path.join(project.dir, 'focus', 'postgresql', 'data'));
    expect(projectServers).toHaveLength(1);
    fs.appendFileSync(path.join(project.dir, 'db', 'src', 'entrypoint.sql'), '\nSELECT pg_sleep(60);\n');

    const live = await hydratingCheck(project, 'live');
    const dead = await hydratingCheck(project, 'dead');
    await dead.kill();
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(serversBelow(path.join(project.dir, 'focus', dead.run))).toHaveLength(1);

    const report = await runBin('database', ['doctor'], { env });
    expect(report.stdout).toMatch(/warn\s+leftover clusters\s+.*run folder .*postgresql-check-/);
    expect(report.stdout).toContain(dead.run);
    expect(report.stdout).not.toContain(live.run);

    const fixed = await runBin('database', ['doctor', '--fix'], { env });
    expect(fixed.stdout).toMatch(/ok\s+leftover clusters\s+cleared run folder/);
    expect(focusEntries(project.dir)).not.toContain(dead.run);
    expect(leftoversBelow(path.join(project.dir, 'focus', dead.run))).toEqual(NOTHING_LEFT);
    // The live run and the project cluster are untouched.
    expect(focusEntries(project.dir)).toContain(live.run);
    expect(serversBelow(path.join(project.dir, 'focus', live.run))).toHaveLength(1);
    expect(serversBelow(path.join(project.dir, 'focus', 'postgresql', 'data'))).toEqual(projectServers);
    await live.kill();
    const after = await runBin('database', ['doctor', '--fix'], { env });
    expect(after.stdout).toMatch(/ok\s+leftover clusters\s+cleared/);
    const clean = await runBin('database', ['doctor'], { env });
    expect(clean.stdout).toMatch(/ok\s+leftover clusters\s+none/);
  });

  it('the next run clears them', async () => {
    const project = newProject();
    fs.appendFileSync(path.join(project.dir, 'db', 'src', 'entrypoint.sql'), '\nSELECT pg_sleep(60);\n');
    const dead = await hydratingCheck(project, 'dead-next');
    await dead.kill();
    expect(serversBelow(path.join(project.dir, 'focus', dead.run))).toHaveLength(1);
    const next = await runBin('database', ['check', '--no-hydrate', '-P'], { env: projectEnv(project) });
    expect(next.code, next.stderr).toBe(0);
    expect(focusEntries(project.dir)).toEqual([]);
    // The next run's own data in RAM goes in a detached rm, right after it.
    await expectClearedBelow(project.dir);
  });
});

/*
 * SPEC §17: every crash leftover (`.partial-*`, `.trash-*`, `.tmp-*`, RAM folders) is
 * listed by `database doctor` and cleared by `doctor --fix` and by the next run of the
 * same command; what a killed command was running ends with it. (Here, not in
 * faults-interrupt.test.ts: `doctor --fix` clears dead runs machine-wide, so the tests
 * that keep a dead run around must not run beside each other.)
 */

describe('database backup killed with SIGKILL', () => {
  it('SIGKILL while streaming: pg_basebackup ends with it; doctor reports the partial backup, --fix and the next backup clear it', async () => {
    const { project, env } = clusterProject();
    const url = await startCluster(env);
    const slow = { ...env, PG_BIN_DIR: slowBasebackup() };
    const streaming = async () => (await walsenders(url)) >= 2;

    const killed = await signalWhen(['backup'], slow, streaming, 'SIGKILL', 'pg_basebackup to stream');
    expect(killed.signal).toBe('SIGKILL');
    await expectNoStreamerLeft(url, project);
    const [partial] = partialBackups(project);
    expect(partial).toBeDefined();

    const report = await runBin('database', ['doctor'], { env });
    expect(report.stdout).toMatch(/warn\s+leftover files\s+.*partial backup .*postgresql-backup\.partial-/);
    expect(report.stdout).toContain(partial);
    const fixed = await runBin('database', ['doctor', '--fix'], { env });
    expect(fixed.stdout).toMatch(/ok\s+leftover files\s+cleared partial backup/);
    expect(partialBackups(project)).toEqual([]);

    await signalWhen(['backup'], slow, streaming, 'SIGKILL', 'pg_basebackup to stream again');
    await expectNoStreamerLeft(url, project);
    expect(partialBackups(project)).toHaveLength(1);
    const next = await runBin('database', ['backup'], { env });
    expect(next.code, next.stderr).toBe(0);
    expect(partialBackups(project)).toEqual([]);
  });

  it('SIGKILL of the run and of its reaper: doctor --fix still ends the orphaned pg_basebackup and its walsenders', async () => {
    const { project, env } = clusterProject();
    const url = await startCluster(env);
    const marked = { ...env, PG_BIN_DIR: slowBasebackup(), DB_TOOL_TEST_MARK: 'orphan-backup' };
    const run = spawnDatabase(['backup'], marked);
    cleanups.push(() => {
      run.child.kill('SIGKILL');
    });
    await waitFor(async () => (await walsenders(url)) >= 2, 90_000, 'pg_basebackup to stream');
    // Nothing may clear up after the run: its reaper goes first.
    for (const pid of watchdogsWith('DB_TOOL_TEST_MARK=orphan-backup')) process.kill(pid, 'SIGKILL');
    run.child.kill('SIGKILL');
    await run.done;
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(basebackups(project).length).toBeGreaterThan(0);

    const report = await runBin('database', ['doctor'], { env });
    expect(report.stdout).toMatch(/partial backup .*still used by pid/);
    const fixed = await runBin('database', ['doctor', '--fix'], { env });
    expect(fixed.stdout).toMatch(/ok\s+leftover files\s+cleared partial backup/);
    await expectNoStreamerLeft(url, project);
    expect(partialBackups(project)).toEqual([]);
  });
});

describe('leftovers of killed restore and pull_staging runs', () => {
  it('restore killed while unpacking: doctor lists its scratch folder; the next restore and --fix clear it', async () => {
    const { project, env } = clusterProject();
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
      // (A detached rm of an older folder, at idle I/O priority, may still be at work: it writes nothing.)
      const writers = () => processesMentioning(workingDir).filter((pid) => !isServer(pid) && !isRemoval(pid)).map(commandLine);
      // The reaper ends the group once the run is dead (escalating to SIGKILL after 7 s); a full
      // suite on two cores once took longer than 10 s. A hang still fails here.
      await waitFor(() => writers().length === 0, 30_000, 'tar to end').catch(() => undefined);
      expect(writers()).toEqual([]);
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

function commandLine(pid: number): string {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').trim();
  } catch {
    return '';
  }
}

/** A background `rm -rf` of a folder (see removeInBackground), or a process already gone. */
function isRemoval(pid: number): boolean {
  const command = commandLine(pid);
  return command === '' || /^(\/bin\/)?rm -rf /.test(command) || command.includes('rm -rf -- "$1"');
}

function isServer(pid: number): boolean {
  try {
    return /postgres/.test(fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0] ?? '');
  } catch {
    return false;
  }
}

describe('RAM folder of a killed test run', () => {
  it('doctor reports it and --fix removes it; a live run’s folder stays', async () => {
    // A live run's folder (ours: this process lives) must never go.
    const live = fs.mkdtempSync(path.join('/dev/shm', `db-tool-test-${process.pid}-`));
    cleanups.push(() => fs.rmSync(live, { recursive: true, force: true }));

    /**
     * A test run killed with its watchdog (nothing of its own clears up after it), on a
     * cluster of its own: on the last attempt's cluster, the killed run's `pg_sleep` goes on
     * for up to a second (client_connection_check_interval), and the wait for a sleeping
     * session would return before this run had made its RAM folder.
     */
    const killedRun = async (attempt: number) => {
      const { project, env } = clusterProject();
      const url = await startCluster(env);
      const { run, made } = await stuckTestRun(project, { ...env, DB_TOOL_TEST_MARK: `ram-doctor-${attempt}` }, url);
      // The machine has a roomy /dev/shm (the suite needs one): the copies are in RAM.
      expect(made).toHaveLength(1);
      for (const pid of watchdogsWith(`DB_TOOL_TEST_MARK=ram-doctor-${attempt}`)) process.kill(pid, 'SIGKILL');
      run.child.kill('SIGKILL');
      await run.done;
      return { env, dead: made[0] ?? '' };
    };

    // Any other `database test` of this account (another test file on the other worker)
    // clears a dead run's folder too, as it should: then the doctor had nothing to find,
    // and the scenario is repeated. A folder still there that the doctor missed fails.
    for (let attempt = 1; ; attempt += 1) {
      const { env, dead } = await killedRun(attempt);
      const report = await runBin('database', ['doctor'], { env });
      if (!report.stdout.includes(dead) && !ramFolders().includes(dead) && attempt < 5) continue;
      expect(report.stdout).toMatch(/warn\s+leftover files\s+.*RAM folder \/dev\/shm\/db-tool-test-/);
      expect(report.stdout).toContain(dead);
      expect(report.stdout).not.toContain(path.basename(live));
      const fixed = await runBin('database', ['doctor', '--fix'], { env });
      expect(fixed.code, fixed.stderr).toBe(0);
      expect(ramFolders()).not.toContain(dead);
      expect(fs.existsSync(live)).toBe(true);
      return;
    }
  });
});

describe('RAM spares whose working dir is gone (deleted by hand)', () => {
  /** A RAM folder of spares for `workingDir`, as a check or diff leaves it (src/cluster/ram-spares.ts). */
  function spareHomeFor(workingDir: string): string {
    const folder = spareHomeOf(workingDir);
    fs.mkdirSync(path.join(folder, '.spare-0123456789abcdef-1'), { recursive: true, mode: 0o700 });
    fs.writeFileSync(path.join(folder, 'working-dir'), `${workingDir}\n`);
    cleanups.push(() => fs.rmSync(folder, { recursive: true, force: true }));
    return folder;
  }

  /** A working dir path of another project, which no longer exists. */
  function goneElsewhere(): string {
    const dir = makeDiskTempDir('db-tool-gone-');
    fs.rmSync(dir, { recursive: true, force: true });
    return path.join(dir, 'postgresql');
  }

  it('doctor reports them, --fix clears them; one whose working dir exists stays', async () => {
    const project = newProject();
    const gone = goneElsewhere();
    const orphan = spareHomeFor(gone);
    const live = spareHomeFor(project.dir);
    const report = await runBin('database', ['doctor'], { env: projectEnv(project) });
    expect(report.stdout).toMatch(/warn\s+leftover files\s+.*RAM spares /);
    expect(report.stdout).toContain(`RAM spares ${orphan} (its working dir ${gone} is gone)`);
    expect(report.stdout).not.toContain(live);
    const fixed = await runBin('database', ['doctor', '--fix'], { env: projectEnv(project) });
    expect(fixed.stdout).toContain(`cleared RAM spares ${orphan}`);
    expect(fs.existsSync(orphan)).toBe(false);
    expect(fs.existsSync(live)).toBe(true);
  });

  it("the project's next run clears its own; another project's stays", async () => {
    const project = newProject();
    const ours = spareHomeFor(path.join(project.dir, 'focus', 'old-postgresql'));
    const theirs = spareHomeFor(goneElsewhere());
    const next = await runBin('database', ['check', '--no-hydrate', '-P'], { env: projectEnv(project) });
    expect(next.code, next.stderr).toBe(0);
    expect(fs.existsSync(ours)).toBe(false);
    expect(fs.existsSync(theirs)).toBe(true);
  });

  it('database cleanup of that working dir removes them', async () => {
    const project = newProject();
    const workingDir = path.join(project.dir, 'focus', 'deleted-by-hand');
    const folder = spareHomeFor(workingDir);
    const cleanup = await runBin('database', ['cleanup'], { env: projectEnv(project, { PG_WORKING_DIR: workingDir }) });
    expect(cleanup.code, cleanup.stderr).toBe(0);
    expect(fs.existsSync(folder)).toBe(false);
  });
});
