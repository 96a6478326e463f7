/**
 * Passwords never travel in argv (SPEC §17 "Security"): while a migration runs and while
 * pull_staging's remote pg_dump runs, no command line on the machine (`ps -eo args`, read
 * here from /proc/PID/cmdline) holds the password; reports and messages hide it too, a
 * password with a space included.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBin } from './helpers/cli.js';
import { startTestCluster, type TestCluster } from './helpers/cluster.js';
import { BIN, baseEnv, makeTempDir } from './helpers/env.js';
import { clientConfig } from './helpers/pg-clients.js';
import { createDatabase, databaseOf, waitFor } from './helpers/project.js';
import { sshdAvailable, startSshd, type TestSshd } from './helpers/sshd.js';

/** A password with a space and a quote, which the test cluster's trust authentication ignores. */
const PASSWORD = "Pw LEAK'h19";
const LOCK_KEY = 91919;

let cluster: TestCluster;
let scratch: string;

beforeAll(async () => {
  cluster = await startTestCluster();
  scratch = makeTempDir('db-tool-argv-');
});

afterAll(async () => {
  await cluster?.stop();
  if (scratch) fs.rmSync(scratch, { recursive: true, force: true });
});

/** The cluster URL `postgresql://user@/db?host=…` with the password written in raw, as users do. */
function withPassword(url: string): string {
  return url.replace(/^postgresql:\/\/([^@/]+)@/, `postgresql://$1:${PASSWORD}@`);
}

/** Every live process's command line, as `ps -eo args` shows them to any local user. */
function commandLines(): Array<{ pid: number; args: string }> {
  const lines: Array<{ pid: number; args: string }> = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^[0-9]+$/.test(entry)) continue;
    try {
      lines.push({ pid: Number(entry), args: fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8').replace(/\0/g, ' ') });
    } catch {
      // ended while we looked
    }
  }
  return lines;
}

function environOf(pid: number): string {
  try {
    return fs.readFileSync(`/proc/${pid}/environ`, 'utf8');
  } catch {
    return '';
  }
}

/** A session holding an advisory lock, so that what waits for it is caught running. */
async function holdLock(url: string): Promise<{ waiters: () => Promise<number>; release: () => Promise<void> }> {
  const client = new pg.Client(clientConfig(url));
  await client.connect();
  await client.query('SELECT pg_advisory_lock($1)', [LOCK_KEY]);
  return {
    waiters: async () =>
      Number((await client.query("SELECT count(*) AS n FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")).rows[0].n),
    release: async () => {
      await client.end().catch(() => undefined);
    },
  };
}

function spawnBin(name: string, args: string[], env: Record<string, string | undefined>): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(path.join(BIN, name), args, { env: baseEnv(env), stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stderr })));
}

describe('while a migration runs', () => {
  it.each(['DB_URL', '-u'])('no command line holds the password given by %s: psql gets it through PGPASSWORD', async (given) => {
    const db = await createDatabase(cluster.url, 'argv');
    const dir = path.join(scratch, `migrations-${given}`);
    fs.mkdirSync(path.join(dir, '20240101000000-wait'), { recursive: true });
    fs.writeFileSync(path.join(dir, '20240101000000-wait', 'up.sql'), `SELECT pg_advisory_lock(${LOCK_KEY});\nSELECT pg_advisory_unlock(${LOCK_KEY});\n`);
    fs.writeFileSync(path.join(dir, '20240101000000-wait', 'down.sql'), 'SELECT 1;\n');
    const lock = await holdLock(db);
    try {
      // Typed on our own command line, the password leaves it as soon as we start.
      const run = given === '-u'
        ? spawnBin('migrator', ['-u', withPassword(db), '-d', dir, 'migrate', 'up'], {})
        : spawnBin('migrator', ['-d', dir, 'migrate', 'up'], { DB_URL: withPassword(db) });
      await waitFor(async () => (await lock.waiters()) > 0, 60_000, 'the migration to wait for the lock');
      const psql = commandLines().filter((line) => /\bpsql\b/.test(line.args) && line.args.includes(databaseOf(db)));
      expect(psql.length).toBeGreaterThan(0);
      for (const line of commandLines()) expect(line.args).not.toContain('LEAK');
      // The password did reach psql, through its environment.
      expect(psql.some((line) => environOf(line.pid).includes(`PGPASSWORD=${PASSWORD}\0`))).toBe(true);
      await lock.release();
      const result = await run;
      expect(result.stderr).not.toContain('LEAK');
      expect(result.code).toBe(0);
    } finally {
      await lock.release();
    }
  });
});

describe('messages and reports', () => {
  it('cannot connect: the password with a space is hidden whole', async () => {
    const empty = path.join(scratch, 'empty');
    fs.mkdirSync(empty, { recursive: true });
    const result = await runBin('migrator', ['-d', empty, '-u', 'postgresql://u:PW LEAK@127.0.0.1:1/db', 'migrate', 'status']);
    expect(result.code).not.toBe(0);
    expect(result.code).not.toBe(13);
    expect(result.stderr).toContain('postgresql://u:***@127.0.0.1:1/db');
    expect(result.stderr).not.toContain('LEAK');
  });

  it('database doctor shows DB_URL without its password, in text and JSON', async () => {
    const env = { DB_URL: 'postgresql://app:PW LEAK@db.example.com:5432/app', PG_WORKING_DIR: cluster.workingDir };
    const text = await runBin('database', ['doctor'], { env });
    const json = await runBin('database', ['doctor', '--json'], { env });
    expect(text.stdout).toContain('postgresql://app:***@db.example.com:5432/app');
    expect(JSON.stringify(JSON.parse(json.stdout))).toContain('postgresql://app:***@db.example.com:5432/app');
    for (const result of [text, json]) expect(result.stdout + result.stderr).not.toContain('LEAK');
  });

  it('sslmode=require to a server without SSL: one line in our words, no SECURITY WARNING', async () => {
    const url = `${withPassword(cluster.url)}&sslmode=require`.replace('&sslmode', cluster.url.includes('?') ? '&sslmode' : '?sslmode');
    // The bundle goes in through pg, which (unlike psql on a socket) asks the server for SSL.
    // HECTIC_LOG=warn: init names its target first (an info line); the error is the one line left.
    const result = await runBin('migrator', ['-u', url, 'init'], { env: { HECTIC_LOG: 'warn' } });
    expect(result.stderr).not.toMatch(/SECURITY WARNING|DeprecationWarning|node --trace/);
    expect(result.stderr).not.toContain('LEAK');
    if (result.code !== 0) {
      expect(result.stderr.trim().split('\n')).toHaveLength(1);
      expect(result.stderr).toMatch(/cannot connect to .*: .*SSL/);
    }
  });
});

describe('pull_staging', () => {
  let sshd: TestSshd;

  beforeAll(async () => {
    if (!sshdAvailable()) throw new Error('openssh-server is required for this test (apt-get install openssh-server)');
    sshd = await startSshd();
  });

  afterAll(async () => {
    await sshd?.stop();
  });

  it('no command line (ssh, the remote shell, pg_dump) holds the password: it goes over ssh stdin', async () => {
    const db = await createDatabase(cluster.url, 'staging');
    const setup = new pg.Client(clientConfig(db));
    await setup.connect();
    await setup.query('CREATE TABLE users (id serial PRIMARY KEY, name text)');
    await setup.query("INSERT INTO users (name) VALUES ('ann')");
    // pg_dump waits for the table while this session holds it.
    await setup.query('BEGIN');
    await setup.query('LOCK TABLE users IN ACCESS EXCLUSIVE MODE');
    const profileDir = makeTempDir('db-tool-argv-profile-');
    try {
      const run = spawnBin('database', ['pull_staging'], {
        PATH: `${sshd.binDir}:${process.env.PATH ?? '/usr/bin:/bin'}`,
        PROFILE_DIR: profileDir,
        STAGING_SSH_HOST: sshd.host,
        STAGING_DB_URL: withPassword(db),
        STAGING_DUMP_TABLES: 'users',
        STAGING_DUMP_FLAGS: '--data-only',
        HECTIC_LOG: 'debug',
      });
      let dumps: Array<{ pid: number; args: string }> = [];
      await waitFor(
        async () => {
          dumps = commandLines().filter((line) => /^\S*pg_dump /.test(line.args));
          const waiting = await setup.query("SELECT count(*) AS n FROM pg_locks WHERE relation = 'users'::regclass AND NOT granted");
          return dumps.length > 0 && Number(waiting.rows[0].n) > 0;
        },
        60_000,
        'the remote pg_dump to wait for the table',
      );
      for (const line of commandLines()) expect(line.args).not.toContain('LEAK');
      expect(dumps.some((line) => environOf(line.pid).includes(`PGPASSWORD=${PASSWORD}\0`))).toBe(true);
      await setup.query('COMMIT');
      const result = await run;
      expect(result.code).toBe(0);
      expect(result.stderr).not.toContain('LEAK');
      expect(fs.readFileSync(path.join(profileDir, 'test-data.sql'), 'utf8')).toContain('ann');
    } finally {
      await setup.end().catch(() => undefined);
      fs.rmSync(profileDir, { recursive: true, force: true });
    }
  });
});
