/**
 * `database branch` (SPEC §17): one database per git branch in the project cluster, swapped
 * behind PG_DATABASE by the post-checkout hook. A real git repository with three branches,
 * each adding its own migration and rows; pg_cron preloaded (the default), so every
 * switch moves its launcher off PG_DATABASE.
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBin, runProgram, type CliResult } from './helpers/cli.js';
import { BIN, baseEnv, makeTempDir } from './helpers/env.js';
import { queryValue, urlFor, waitFor, withDb } from './helpers/project.js';

let dir: string;
let env: Record<string, string>;
let url: string;
const made: { install?: CliResult; toA?: string; toB?: string } = {};

function git(...args: string[]): string {
  const result = spawnSync('git', ['-c', 'user.email=test@example.com', '-c', 'user.name=test', ...args], { cwd: dir, env: baseEnv(env), encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`git ${args.join(' ')}: ${result.stderr}`);
  return `${result.stdout}${result.stderr}`;
}

/** git with the hook out of the way. */
function quietGit(...args: string[]): string {
  return git('-c', 'core.hooksPath=/dev/null', ...args);
}

function database(...args: string[]): Promise<CliResult> {
  return runBin('database', args, { env, cwd: dir });
}

/** A migration `name` that makes table `table` and adds a row to `item`. */
function addMigration(name: string, table: string, row: string): void {
  const folder = path.join(dir, 'db', 'migration', name);
  fs.mkdirSync(folder, { recursive: true });
  fs.writeFileSync(path.join(folder, 'up.sql'), `CREATE TABLE ${table} (id int);\nINSERT INTO item VALUES ('${row}');\n`);
  fs.writeFileSync(path.join(folder, 'down.sql'), `DROP TABLE ${table};\nDELETE FROM item WHERE branch = '${row}';\n`);
}

async function commitAndMigrate(message: string): Promise<void> {
  git('add', '-A');
  git('commit', '-qm', message);
  const migrated = await database('migrator', 'migrate', 'up');
  expect(migrated.code, migrated.stderr).toBe(0);
}

/** What PG_DATABASE holds now: its rows of item and the tables of public. */
async function seen(): Promise<{ rows: string[]; tables: string[] }> {
  return withDb(url, async (client) => ({
    rows: (await client.query<{ branch: string }>('SELECT branch FROM item ORDER BY branch')).rows.map((row) => row.branch),
    tables: (await client.query<{ t: string }>("SELECT tablename AS t FROM pg_tables WHERE schemaname = 'public' ORDER BY 1")).rows.map((row) => row.t),
  }));
}

const MAIN = { rows: ['main'], tables: ['item'] };
const A = { rows: ['a', 'main'], tables: ['item', 'only_a'] };
const B = { rows: ['a', 'b', 'main'], tables: ['item', 'only_a', 'only_b'] };

beforeAll(async () => {
  dir = makeTempDir('db-tool-branch-');
  env = { LOCAL_DIR: dir, HECTIC_INHERITANCE_EXCLUDED_SCHEMAS: '*', GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null' };
  git('init', '-q', '-b', 'main');
  fs.writeFileSync(path.join(dir, '.gitignore'), 'focus/\n');
  fs.mkdirSync(path.join(dir, 'db', 'migration'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'README'), 'v1\n');
  const folder = path.join(dir, 'db', 'migration', '20240101000000-item');
  fs.mkdirSync(folder);
  fs.writeFileSync(path.join(folder, 'up.sql'), "CREATE TABLE item (branch text);\nINSERT INTO item VALUES ('main');\n");
  const init = await database('init');
  expect(init.code, init.stderr).toBe(0);
  url = /PostgreSQL ready: (\S+)/.exec(init.stderr)![1]!;
  await commitAndMigrate('main');

  // Three branches, made through the hook: feature-a from main, feature-b from feature-a.
  made.install = await database('branch', 'install-hook');
  expect(made.install.code, made.install.stderr).toBe(0);
  made.toA = git('checkout', '-b', 'feature-a');
  addMigration('20240201000000-only-a', 'only_a', 'a');
  await commitAndMigrate('a');
  made.toB = git('checkout', '-b', 'feature-b');
  addMigration('20240301000000-only-b', 'only_b', 'b');
  await commitAndMigrate('b');
  git('checkout', 'main');
}, 180_000);

/** main checked out, its database current (whatever the test before left). */
async function atMain(): Promise<void> {
  quietGit('checkout', '-q', 'main');
  const switched = await database('branch', 'switch', 'main');
  expect(switched.code, switched.stderr).toBe(0);
}

afterAll(async () => {
  if (env) await runBin('postgres-cleanup', [], { env });
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe('database branch', () => {
  it('gives each of three branches its own schema and data, switched by git checkout through the hook', async () => {
    expect(made.install?.stderr).toContain('installed');
    // feature-a from main: a first visit copied main's database; feature-b's nearest was feature-a.
    expect(made.toA).toContain("is now branch feature-a's (first visit: a copy of main's)");
    expect(made.toB).toContain("is now branch feature-b's (first visit: a copy of feature-a's)");
    await atMain();
    for (const [branch, expected] of [['feature-a', A], ['feature-b', B], ['main', MAIN], ['feature-b', B], ['feature-a', A], ['main', MAIN]] as const) {
      const out = git('checkout', branch);
      expect(out).toContain(`is now branch ${branch}'s`);
      expect(await seen()).toEqual(expected);
      expect((await database('branch')).stdout).toBe(`${branch}\n`);
    }
    // The exported name never changed: every branch's database is reached through it.
    const names = await queryValue<string[]>(urlFor(url, 'postgres'), "SELECT array_agg(datname::text ORDER BY datname) FROM pg_database WHERE datname LIKE 'testdb%'");
    expect(names).toEqual(expect.arrayContaining(['testdb', 'testdb@feature-a', 'testdb@feature-b']));
    expect(names).not.toContain('testdb@main');
  });

  it("a first visit applies the branch's pending migrations and names those it lacks (kept, not reverted)", async () => {
    await atMain();
    // Branches made with the hook out of the way: the database stays main's meanwhile.
    quietGit('checkout', '-q', '-b', 'feature-d');
    addMigration('20240401000000-only-d', 'only_d', 'd');
    git('add', '-A');
    quietGit('commit', '-qm', 'd');
    expect((await database('branch')).stdout).toBe('main\n');
    const toD = await database('branch', 'switch');
    expect(toD.code, toD.stderr).toBe(0);
    expect(toD.stderr).toContain("first visit: a copy of main's");
    expect(toD.stderr).toContain('applied 1 migration: 20240401000000-only-d');
    expect(await seen()).toEqual({ rows: ['d', 'main'], tables: ['item', 'only_d'] });

    // feature-e from main, visited while feature-d's database is current: main and
    // feature-d are as near, so the current one is copied; its only_d is not on feature-e.
    quietGit('checkout', '-q', '-b', 'feature-e', 'main');
    const toE = await database('branch', 'switch', 'feature-e');
    expect(toE.code, toE.stderr).toBe(0);
    expect(toE.stderr).toContain("first visit: a copy of feature-d's");
    expect(toE.stderr).toContain('kept from feature-d, not on this branch (came from elsewhere, not reverted): 20240401000000-only-d');
    expect(await seen()).toEqual({ rows: ['d', 'main'], tables: ['item', 'only_d'] });
    quietGit('checkout', '-q', 'main');
    await database('branch', 'switch', 'main');
  });

  it('ends the sessions connected during a switch and says so; psql is told and can reconnect', async () => {
    await atMain();
    const psql = spawn('psql', ['-X', '-At', url], { env: baseEnv({ PGAPPNAME: 'psql' }), stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    psql.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
    psql.stderr.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
    const exited = new Promise<number | null>((resolve) => psql.on('close', resolve));
    try {
      psql.stdin.write("SELECT 'connected';\n");
      await waitFor(() => out.includes('connected'), 30_000, 'psql to connect');
      const checkout = git('checkout', 'feature-a');
      expect(checkout).toMatch(/ended 1 session connected to testdb \(psql\): reconnect/);
      psql.stdin.write('SELECT branch FROM item;\n');
      psql.stdin.end();
      await exited;
      expect(err).toMatch(/terminating connection due to administrator command|server closed the connection/);
    } finally {
      psql.kill('SIGKILL');
    }
    const again = await runProgram('psql', ['-X', '-At', '-c', 'SELECT string_agg(branch, \',\' ORDER BY branch) FROM item', url]);
    expect(again.stdout.trim()).toBe('a,main');
  });

  it('does nothing on a checkout of files', async () => {
    await atMain();
    fs.writeFileSync(path.join(dir, 'README'), 'changed\n');
    const out = git('checkout', 'feature-a', '--', 'README');
    expect(out).not.toContain('database');
    expect((await database('branch')).stdout).toBe('main\n');
    git('checkout', 'main', '--', 'README');
  });

  it('survives SIGKILL at every step of a switch: nothing lost, PG_DATABASE one of the branches, the next switch finishes', async () => {
    await atMain();
    const steps = ['after-copy', 'after-label', 'between-renames', 'before-commit', 'after-swap'];
    for (const [index, step] of steps.entries()) {
      const fresh = `killed-${index}`;
      git('branch', fresh, 'feature-a');
      for (const target of [fresh, 'feature-b']) {
        expect((await database('branch', 'switch', 'main')).code).toBe(0);
        const paused = await pausedSwitch(target, step);
        // Whatever the instant, PG_DATABASE is one branch's database, whole.
        const now = (await database('branch')).stdout.trim();
        expect(['main', target], `${step} → ${target}`).toContain(now);
        expect(await seen()).toEqual(now === 'main' ? MAIN : target === 'feature-b' ? B : A);
        if (!paused) continue; // no such step on this kind of switch (an existing branch has no copy)
        const finish = await database('branch', 'switch', target);
        expect(finish.code, `${step} → ${target}: ${finish.stderr}`).toBe(0);
        expect((await database('branch')).stdout).toBe(`${target}\n`);
        expect(await seen()).toEqual(target === 'feature-b' ? B : A);
      }
    }
    for (const [branch, expected] of [['feature-a', A], ['feature-b', B], ['main', MAIN]] as const) {
      expect((await database('branch', 'switch', branch)).code).toBe(0);
      expect(await seen()).toEqual(expected);
    }
    const leftovers = await queryValue<number>(urlFor(url, 'postgres'), "SELECT count(*)::int FROM pg_database WHERE datname LIKE 'testdb@%' AND shobj_description(oid, 'pg_database') IS NULL");
    expect(leftovers).toBe(0);
  }, 300_000);

  it('two switches at once run one after the other (the working dir lock): both succeed, every database whole', async () => {
    expect((await database('branch', 'switch', 'main')).code).toBe(0);
    const [toA, toB] = await Promise.all([database('branch', 'switch', 'feature-a'), database('branch', 'switch', 'feature-b')]);
    expect(toA.code, toA.stderr).toBe(0);
    expect(toB.code, toB.stderr).toBe(0);
    const now = (await database('branch')).stdout.trim();
    expect(['feature-a', 'feature-b']).toContain(now);
    expect(await seen()).toEqual(now === 'feature-a' ? A : B);
    // The one that ran second left the first one's database under its stored name, whole.
    const other = now === 'feature-a' ? 'feature-b' : 'feature-a';
    expect((await database('branch', 'switch', other)).code).toBe(0);
    expect(await seen()).toEqual(other === 'feature-a' ? A : B);
  });

  it('lists, removes and collects branch databases (--json), never the current one', async () => {
    await atMain();
    for (const name of ['gone', 'doomed']) {
      quietGit('branch', name, 'main');
      expect((await database('branch', 'switch', name)).code).toBe(0);
    }
    await atMain();
    const list = await database('branch', 'list', '--json');
    expect(list.code, list.stderr).toBe(0);
    const branches = JSON.parse(list.stdout) as Array<{ name: string; current: boolean; pending: string[] | null; bytes: number; inGit: boolean }>;
    expect(branches[0]).toEqual(expect.objectContaining({ name: 'main', current: true, pending: [] }));
    expect(branches.find((b) => b.name === 'feature-a')).toEqual(expect.objectContaining({ current: false, pending: [], inGit: true }));
    expect(branches.every((b) => b.bytes > 0)).toBe(true);
    const text = await database('branch', 'list');
    expect(text.stdout).toMatch(/^\* main +testdb +\S+ \S+ +\S.* 0$/m);

    const refused = await database('branch', 'rm', 'main');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('is the current one');

    quietGit('branch', '-D', 'gone');
    const dry = await database('branch', 'gc', '--dry-run', '--json');
    expect(JSON.parse(dry.stdout)).toEqual([expect.objectContaining({ name: 'gone', database: 'testdb@gone', why: 'gone from git' })]);
    const gc = await database('branch', 'gc', '--json');
    expect(gc.code, gc.stderr).toBe(0);
    expect((JSON.parse(gc.stdout) as Array<{ name: string }>).map((r) => r.name)).toEqual(['gone']);
    const removed = await database('branch', 'rm', 'doomed', '--json');
    expect(removed.code, removed.stderr).toBe(0);
    expect(JSON.parse(removed.stdout)).toEqual(expect.objectContaining({ name: 'doomed', database: 'testdb@doomed' }));
    const after = (JSON.parse((await database('branch', 'list', '--json')).stdout) as Array<{ name: string }>).map((b) => b.name);
    expect(after).not.toContain('gone');
    expect(after).not.toContain('doomed');
    expect(after).toEqual(expect.arrayContaining(['main', 'feature-a', 'feature-b']));
    const old = await database('branch', 'gc', '--older-than', '0s', '--dry-run', '--json');
    const stale = (JSON.parse(old.stdout) as Array<{ name: string }>).map((r) => r.name);
    expect(stale).toContain('feature-a');
    expect(stale).not.toContain('main');
  });

  it("a fresh init or deploy makes the current branch's database anew and keeps every other branch's", async () => {
    await atMain();
    const before = (JSON.parse((await database('branch', 'list', '--json')).stdout) as Array<{ name: string }>).map((b) => b.name);

    const mainBefore = await seen();
    const init = await database('init');
    expect(init.code, init.stderr).toBe(0);
    expect(init.stderr).toMatch(/kept the databases of \d+ other branch(es)? \(database branch list\); made testdb anew; the one it replaced is kept as testdb~previous/);
    expect(await queryValue<number>(url, "SELECT count(*)::int FROM pg_tables WHERE schemaname = 'public'")).toBe(0);
    expect((await database('branch')).stdout).toBe('main\n');

    // The wipe is undone by restore --previous (a swap: a second one undoes the first).
    const undo = await database('restore', '--previous');
    expect(undo.code, undo.stderr).toBe(0);
    expect(await seen()).toEqual(mainBefore);
    expect((await database('restore', '--previous')).code).toBe(0);
    expect(await queryValue<number>(url, "SELECT count(*)::int FROM pg_tables WHERE schemaname = 'public'")).toBe(0);
    const names = (JSON.parse((await database('branch', 'list', '--json')).stdout) as Array<{ name: string }>).map((b) => b.name);
    expect(names).toEqual(before);

    fs.mkdirSync(path.join(dir, 'db', 'src'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'db', 'src', 'entrypoint.sql'), "CREATE TABLE item (branch text);\nINSERT INTO item VALUES ('deployed');\n");
    const deploy = await database('deploy');
    expect(deploy.code, deploy.stderr).toBe(0);
    expect(deploy.stderr).toContain('made testdb anew');
    expect((await seen()).rows).toEqual(['deployed']);

    const after = (JSON.parse((await database('branch', 'list', '--json')).stdout) as Array<{ name: string }>).map((b) => b.name);
    expect(after).toEqual(before);
    expect((await database('branch', 'switch', 'feature-b')).code).toBe(0);
    expect(await seen()).toEqual(B);
    expect((await database('branch', 'switch', 'main')).code).toBe(0);
    expect((await seen()).rows).toEqual(['deployed']);

    // A stopped cluster (a reboot) too: a fresh postgres-init keeps the other branches.
    expect((await runBin('postgres-cleanup', [], { env })).code).toBe(0);
    const fresh = await runBin('postgres-init', [], { env, cwd: dir });
    expect(fresh.code, fresh.stderr).toBe(0);
    expect(fresh.stderr).toContain('made testdb anew');
    expect((await database('branch', 'switch', 'feature-b')).code).toBe(0);
    expect(await seen()).toEqual(B);
  });
});

/**
 * Runs `database branch switch TARGET` held at `step` (DB_TOOL_BRANCH_PAUSE) and SIGKILLs
 * it there. False when the switch never reached that step (it ran to its end).
 */
async function pausedSwitch(target: string, step: string): Promise<boolean> {
  const child = spawn(path.join(BIN, 'database'), ['branch', 'switch', target], { cwd: dir, env: baseEnv({ ...env, DB_TOOL_BRANCH_PAUSE: step }), stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const done = new Promise<void>((resolve) => child.on('close', () => resolve()));
  let ended = false;
  void done.then(() => (ended = true));
  try {
    await waitFor(() => stderr.includes(`paused ${step}`) || ended, 60_000, `the switch to pause ${step}`);
    return !ended;
  } finally {
    child.kill('SIGKILL');
    await done;
  }
}
