/**
 * SPEC §12: every command answers SIGTERM within 5 s, whatever it is doing, and leaves
 * earlier state intact. Each long step is held open by the real program behind a gate
 * (or by pg_sleep in the user's SQL) while the signal arrives.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runBin } from './helpers/cli.js';
import { BIN, baseEnv, makeTempDir } from './helpers/env.js';
import { gatePgProgram, gateProgram, leftoversBelow, NOTHING_LEFT, type Gate } from './helpers/faults.js';
import { interruptedRuns, runCleanups, startCluster, type Cleanups } from './helpers/interrupted-runs.js';
import { focusEntries, processesMentioning, queryValue, serversBelow, waitFor } from './helpers/project.js';

/** The contract is 5 s; a little slack for a loaded machine. */
const ANSWER_WITHIN_MS = 8_000;

const cleanups: Cleanups = [];
const { clusterProject: newProject } = interruptedRuns(cleanups);

afterEach(() => runCleanups(cleanups));

interface Running {
  child: ChildProcess;
  done: Promise<{ code: number | null; stderr: string }>;
}

function start(program: 'database' | 'postgres-init', args: string[], env: Record<string, string>): Running {
  const child = spawn(path.join(BIN, program), args, { env: baseEnv(env), stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const done = new Promise<{ code: number | null; stderr: string }>((resolve) => child.on('close', (code) => resolve({ code, stderr })));
  cleanups.push(() => {
    child.kill('SIGKILL');
  });
  return { child, done };
}

/** Sends SIGTERM once `ready`, and returns how the command ended; fails if it does not answer in time. */
async function terminateWhen(running: Running, ready: () => boolean | Promise<boolean>, what: string): Promise<{ code: number | null; stderr: string }> {
  try {
    await waitFor(ready, 30_000, what);
  } catch (error) {
    running.child.kill('SIGKILL');
    throw new Error(`${(error as Error).message}; stderr: ${(await running.done).stderr}`);
  }
  running.child.kill('SIGTERM');
  const late = new Promise<'late'>((resolve) => setTimeout(() => resolve('late'), ANSWER_WITHIN_MS).unref());
  const result = await Promise.race([running.done, late]);
  if (result === 'late') {
    running.child.kill('SIGKILL');
    throw new Error(`${what}: no answer to SIGTERM within ${ANSWER_WITHIN_MS} ms`);
  }
  return result;
}

function gate(program: string, real: string): Gate {
  const made = gateProgram(program, real);
  cleanups.push(() => made.remove());
  return made;
}

function pgGate(program: string): Gate & { pgBinDir: string } {
  const made = gatePgProgram(program);
  cleanups.push(() => made.remove());
  return made;
}

function withGate(env: Record<string, string>, ...gates: Gate[]): Record<string, string> {
  return { ...env, PATH: `${gates.map((g) => g.binDir).join(':')}:${process.env.PATH ?? ''}` };
}

/** Starts the project cluster with a table in it; returns its URL. */
async function clusterWithTable(env: Record<string, string>): Promise<string> {
  const url = await startCluster(env);
  await queryValue(url, 'CREATE TABLE precious (id int)');
  await queryValue(url, 'INSERT INTO precious VALUES (42)');
  return url;
}

function sha(file: string): string {
  return crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

describe('SIGTERM during postgres-init', () => {
  it('while copying the template: exit 143, the cluster being replaced still runs with its data', async () => {
    const { project, env } = newProject();
    const url = await clusterWithTable(env);
    const workingDir = path.join(project.dir, 'focus', 'postgresql');
    // No spare: the next fresh start must copy the template.
    await waitFor(() => !fs.readdirSync(workingDir).some((name) => name.startsWith('.spare-tmp-')), 90_000, 'the spare copy');
    for (const name of fs.readdirSync(workingDir).filter((entry) => entry.startsWith('.spare-'))) fs.rmSync(path.join(workingDir, name), { recursive: true });
    const cp = gate('cp', '/bin/cp');
    const result = await terminateWhen(start('postgres-init', [], withGate(env, cp)), () => cp.reached(), 'the template copy');
    expect(result.code, result.stderr).toBe(143);
    expect(await queryValue(url, 'SELECT id FROM precious')).toBe(42);
    expect(fs.readdirSync(workingDir).filter((name) => name.startsWith('.trash-fresh-'))).toEqual([]);
  });

  it('while running initdb (no template yet): exit 143, no server, no half-made data', async () => {
    const { project, env } = newProject();
    const initdb = pgGate('initdb');
    const coldEnv = { ...env, PG_BIN_DIR: initdb.pgBinDir, XDG_CACHE_HOME: makeTempDir('db-tool-cold-cache-') };
    cleanups.push(() => fs.rmSync(coldEnv.XDG_CACHE_HOME!, { recursive: true, force: true }));
    const result = await terminateWhen(start('postgres-init', [], coldEnv), () => initdb.reached(), 'initdb');
    expect(result.code, result.stderr).toBe(143);
    expect(leftoversBelow(project.dir)).toEqual(NOTHING_LEFT);
    const workingDir = path.join(project.dir, 'focus', 'postgresql');
    expect(fs.readdirSync(workingDir).filter((name) => name === 'data' || name.startsWith('.trash-fresh-'))).toEqual([]);
  });
});

describe('SIGTERM during the deploy flow', () => {
  it('deploy during hydrate → 143; deploy --cleanup during patch → 143 and its server stopped', async () => {
    const { project, env } = newProject();
    const entrypoint = path.join(project.dir, 'db', 'src', 'entrypoint.sql');
    const original = fs.readFileSync(entrypoint, 'utf8');
    fs.appendFileSync(entrypoint, '\nSELECT pg_sleep(60);\n');
    const hydrate = await terminateWhen(start('database', ['deploy'], env), () => processesMentioning(`-f ${entrypoint}`).length > 0, 'hydrate');
    expect(hydrate.code, hydrate.stderr).toBe(143);
    expect(processesMentioning(`-f ${entrypoint}`)).toEqual([]);

    fs.writeFileSync(entrypoint, original);
    const testData = path.join(project.dir, 'test-data.sql');
    fs.appendFileSync(testData, '\nSELECT pg_sleep(60);\n');
    const patch = await terminateWhen(start('database', ['deploy', '--cleanup'], env), () => processesMentioning(`-f ${testData}`).length > 0, 'patch');
    expect(patch.code, patch.stderr).toBe(143);
    expect(serversBelow(project.dir)).toEqual([]);
  });

  it('check while copying the template → 143, nothing left', async () => {
    const { project, env } = newProject();
    const cp = gate('cp', '/bin/cp');
    const result = await terminateWhen(start('database', ['check'], withGate(env, cp)), () => cp.reached(), 'the template copy');
    expect(result.code, result.stderr).toBe(143);
    await waitFor(() => JSON.stringify(leftoversBelow(project.dir)) === JSON.stringify(NOTHING_LEFT), 90_000, 'nothing left').catch(() => undefined);
    expect(leftoversBelow(project.dir)).toEqual(NOTHING_LEFT);
    expect(focusEntries(project.dir)).toEqual([]);
  });

  it('test during a test file → 143, no psql left', async () => {
    const { project, env } = newProject();
    const url = await clusterWithTable(env);
    const file = path.join(project.dir, 'db', 'test', 'slow.sql');
    fs.writeFileSync(file, "SELECT pg_sleep(60);\nSELECT 'ok 1';\n");
    const sleeping = async () => Number(await queryValue(url, "SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep(60)%'"));
    const result = await terminateWhen(start('database', ['test', file], { ...env, PGURL: url }), async () => (await sleeping()) > 0, 'the test file');
    expect(result.code, result.stderr).toBe(143);
    // Its psql is gone: nothing runs the file any more.
    // Under pg_sleep(60)'s own minute, or the wait would pass without a cancel.
    await waitFor(async () => (await sleeping()) === 0, 40_000, 'the test session to end').catch(() => undefined);
    expect(await sleeping()).toBe(0);
  });

  it('test in the target itself (a session blocks copies) during a test file → 143, its query cancelled', async () => {
    const { project, env } = newProject();
    const url = await clusterWithTable(env);
    const file = path.join(project.dir, 'db', 'test', 'slow.sql');
    fs.writeFileSync(file, "SELECT pg_sleep(60);\nSELECT 'ok 1';\n");
    // A session on the target: the file runs in the target, not in a copy dropped on exit.
    const blocker = spawn('psql', ['-X', '-q', '-d', url], { stdio: ['pipe', 'ignore', 'ignore'] });
    try {
      blocker.stdin!.write('SELECT 1;\n');
      const connected = async () => Number(await queryValue(url, "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'psql' AND state = 'idle'"));
      await waitFor(async () => (await connected()) > 0, 90_000, 'the blocking session');
      const sleeping = async () => Number(await queryValue(url, "SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep(60)%' AND state = 'active'"));
      const result = await terminateWhen(start('database', ['test', file], { ...env, PGURL: url }), async () => (await sleeping()) > 0, 'the test file');
      expect(result.code, result.stderr).toBe(143);
      expect(result.stderr).toContain('in use by');
      // The query ended with the run: psql's cancel request, or (when psql was killed before
      // it got through, on a loaded machine) the server's check of a client that is gone.
      await waitFor(async () => (await sleeping()) === 0, 40_000, 'the test query to be cancelled').catch(() => undefined);
      expect(await sleeping()).toBe(0);
    } finally {
      blocker.stdin!.end();
      blocker.kill();
    }
  });

  it('a psql killed outright leaves no query behind: the server ends it when its client is gone', async () => {
    const { env } = newProject();
    const url = await clusterWithTable(env);
    const sleeping = async () => Number(await queryValue(url, "SELECT count(*) FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(120)' AND state = 'active'"));
    const psql = spawn('psql', ['-X', '-q', '-d', url, '-c', 'SELECT pg_sleep(120)'], { stdio: 'ignore' });
    try {
      await waitFor(async () => (await sleeping()) > 0, 90_000, 'the query to run');
    } finally {
      psql.kill('SIGKILL');
    }
    await waitFor(async () => (await sleeping()) === 0, 60_000, 'the orphaned query to end').catch(() => undefined);
    expect(await sleeping()).toBe(0);
  });

  it('migrate up during a slow migration → 143', async () => {
    const { project, env } = newProject();
    const url = await clusterWithTable(env);
    const migration = path.join(project.dir, 'db', 'migration', '20250101000000-slow');
    fs.mkdirSync(migration, { recursive: true, mode: 0o755 });
    // The migration tells us it runs (a server-side COPY to a file), then sleeps.
    const marker = path.join(project.dir, 'migrating');
    fs.chmodSync(project.dir, 0o777);
    fs.writeFileSync(path.join(migration, 'up.sql'), `COPY (SELECT 1) TO '${marker}';\nSELECT pg_sleep(60);\n`);
    fs.writeFileSync(path.join(migration, 'down.sql'), 'SELECT 1;\n');
    const result = await terminateWhen(start('database', ['migrator', 'migrate', 'up', 'all'], { ...env, PGURL: url }), () => fs.existsSync(marker), 'the migration');
    expect(result.code, result.stderr).toBe(143);
  });
});

describe('SIGTERM during backup, restore and pull_staging', () => {
  it('backup during pg_basebackup → 143, the previous backup is intact and no partial one is left', async () => {
    const { project, env } = newProject();
    await clusterWithTable(env);
    expect((await runBin('database', ['backup'], { env })).code).toBe(0);
    const backupDir = path.join(project.dir, 'focus', 'postgresql-backup');
    const before = sha(path.join(backupDir, 'base.tar.gz'));
    const pgBasebackup = pgGate('pg_basebackup');
    const result = await terminateWhen(start('database', ['backup'], { ...env, PG_BIN_DIR: pgBasebackup.pgBinDir }), () => pgBasebackup.reached(), 'pg_basebackup');
    expect(result.code, result.stderr).toBe(143);
    expect(sha(path.join(backupDir, 'base.tar.gz'))).toBe(before);
    expect(focusEntries(project.dir).filter((name) => name.includes('.partial-'))).toEqual([]);
  });

  it('restore while unpacking → 143, the cluster runs on with its data, no scratch left', async () => {
    const { project, env } = newProject();
    const url = await clusterWithTable(env);
    expect((await runBin('database', ['backup'], { env })).code).toBe(0);
    await queryValue(url, 'UPDATE precious SET id = 43');
    const tar = gate('tar', '/bin/tar');
    const result = await terminateWhen(start('database', ['restore'], withGate(env, tar)), () => tar.reached(), 'tar');
    expect(result.code, result.stderr).toBe(143);
    expect(await queryValue(url, 'SELECT id FROM precious')).toBe(43);
    const workingDir = path.join(project.dir, 'focus', 'postgresql');
    expect(fs.readdirSync(workingDir).filter((name) => name.startsWith('.trash-restore-'))).toEqual([]);
  });

  it('pull_staging during the dump → 143, test-data.sql unchanged, no temp file', async () => {
    const profile = makeTempDir('db-tool-faults-profile-');
    cleanups.push(() => fs.rmSync(profile, { recursive: true, force: true }));
    fs.writeFileSync(path.join(profile, 'test-data.sql'), '-- before\n');
    const ssh = gate('ssh', '/usr/bin/ssh');
    const env = withGate({
      PROFILE_DIR: profile,
      STAGING_SSH_HOST: 'staging.invalid',
      STAGING_DB_URL: 'postgresql://app@localhost/app',
      STAGING_DUMP_TABLES: 'users',
      STAGING_DUMP_FLAGS: '--data-only',
    }, ssh);
    const result = await terminateWhen(start('database', ['pull_staging'], env), () => ssh.reached(), 'ssh');
    expect(result.code, result.stderr).toBe(143);
    expect(fs.readFileSync(path.join(profile, 'test-data.sql'), 'utf8')).toBe('-- before\n');
    expect(fs.readdirSync(profile)).toEqual(['test-data.sql']);
  });
});
