/**
 * The `migrator` executable against a real PostgreSQL (SPEC §7): every command and
 * rule, run as a user runs it. One cluster for the file, a fresh database per test.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBin, type CliResult } from './helpers/cli.js';
import { startTestCluster, type TestCluster } from './helpers/cluster.js';
import { MigratorWorkspace, appliedNames, relationExists, tableMigration, writeMigration } from './helpers/migrator.js';

let cluster: TestCluster;
let work: MigratorWorkspace;

beforeAll(async () => {
  cluster = await startTestCluster();
  work = await MigratorWorkspace.open(cluster, 'cli');
});

afterAll(async () => {
  await work?.close();
  await cluster?.stop();
});

const USERS = '20240101000000-create-users';
const POSTS = '20240102000000-create-posts';
const COLORS = '20240103000000-colors';
const BASIC = [USERS, POSTS, COLORS];

function migrator(args: string[], env: Record<string, string | undefined> = {}, cwd?: string): Promise<CliResult> {
  return runBin('migrator', args, { env, cwd });
}

/** A fresh database and a copy of the basic fixture, with `run(args)` bound to both. */
async function setup(fixture: string | null = 'basic') {
  const db = await work.database();
  const dir = work.folder(fixture ?? undefined);
  const run = (...args: string[]) => migrator(['-u', db.url, '-d', dir, ...args]);
  return { ...db, dir, run };
}

function lines(text: string): string[] {
  return text.split('\n').filter((line) => line !== '');
}

describe('init', () => {
  it('applies the hectic bundle, idempotently', async () => {
    const { client, run } = await setup();
    const first = await run('init');
    expect(first.code, first.stderr).toBe(0);
    expect(await relationExists(client, 'hectic.migration')).toBe(true);
    const second = await run('init');
    expect(second.code, second.stderr).toBe(0);
  });

  it('--dry-run prints the bundle SQL and touches nothing (no URL needed)', async () => {
    const { client, url } = await setup();
    const withoutUrl = await migrator(['init', '--dry-run']);
    expect(withoutUrl.code, withoutUrl.stderr).toBe(0);
    expect(withoutUrl.stdout).toContain('CREATE TABLE IF NOT EXISTS hectic.migration');
    const withUrl = await migrator(['--dry-run', '-u', url, 'init']);
    expect(withUrl.code).toBe(0);
    expect(await relationExists(client, 'hectic.version')).toBe(false);
  });

  it('needs a URL (exit 3)', async () => {
    const result = await migrator(['init'], { DB_URL: undefined, PGURL: undefined });
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/DB_URL/);
  });
});

describe('migrate up / down', () => {
  it('applies one by default, N, then all; records name, hash and time', async () => {
    const { client, run } = await setup();
    expect((await run('migrate', 'up')).code).toBe(0);
    expect(await appliedNames(client)).toEqual([USERS]);
    const rows = await client.query('SELECT hash::text AS hash, applied_at FROM hectic.migration');
    expect(rows.rows[0].hash).toMatch(/^[0-9a-f]{64}$/);
    expect(rows.rows[0].applied_at).toBeInstanceOf(Date);

    expect((await run('migrate', 'up', '1')).code).toBe(0);
    expect(await appliedNames(client)).toEqual([USERS, POSTS]);
    const all = await run('migrate', 'up', 'all');
    expect(all.code, all.stderr).toBe(0);
    expect(await appliedNames(client)).toEqual(BASIC);
    expect(all.stderr).toContain(`applied  ${COLORS}`);
  });

  it('latest and head mean all; nothing pending exits 0 with a message', async () => {
    const { client, run } = await setup();
    expect((await run('migrate', 'up', 'latest')).code).toBe(0);
    expect(await appliedNames(client)).toEqual(BASIC);
    const again = await run('migrate', 'up', 'head');
    expect(again.code).toBe(0);
    expect(again.stderr).toMatch(/nothing to migrate/);
    const one = await run('migrate', 'up');
    expect(one.code).toBe(0);
    expect(one.stderr).toMatch(/nothing to migrate/);
  });

  it('refuses up N with fewer than N pending, changing nothing (exit 1)', async () => {
    const { client, run } = await setup();
    await run('migrate', 'up');
    const result = await run('migrate', 'up', '5');
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/only 2 pending/);
    expect(await appliedNames(client)).toEqual([USERS]);
  });

  it('reverts one by default, N, and all; down past the start is refused (exit 1)', async () => {
    const { client, run } = await setup();
    await run('migrate', 'up', 'all');
    expect((await run('migrate', 'down')).code).toBe(0);
    expect(await appliedNames(client)).toEqual([USERS, POSTS]);
    expect(await relationExists(client, 'public.colors')).toBe(false);

    const past = await run('migrate', 'down', '3');
    expect(past.code).toBe(1);
    expect(past.stderr).toMatch(/only 2 applied/);
    expect(await appliedNames(client)).toEqual([USERS, POSTS]);

    expect((await run('migrate', 'down', '2')).code).toBe(0);
    expect(await appliedNames(client)).toEqual([]);
    expect(await relationExists(client, 'public.users')).toBe(false);

    const nothing = await run('migrate', 'down', 'all');
    expect(nothing.code).toBe(0);
    expect(nothing.stderr).toMatch(/nothing to revert/);
    expect((await run('migrate', 'down')).code).toBe(1);
  });

  it('runs the nested layout with its \\ir siblings, and may fill immutable tables', async () => {
    const { client, run } = await setup();
    const result = await run('migrate', 'up', 'all');
    expect(result.code, result.stderr).toBe(0);
    const colors = await client.query('SELECT code FROM public.colors ORDER BY code');
    expect(colors.rows.map((row: { code: string }) => row.code)).toEqual(['b', 'g', 'r']);
    // Outside a migration the table is immutable.
    await expect(client.query("INSERT INTO public.colors (code, label) VALUES ('x', 'x')")).rejects.toThrow(/immutable/);
    const down = await run('migrate', 'down', 'all');
    expect(down.code, down.stderr).toBe(0);
    expect(await relationExists(client, 'public.colors')).toBe(false);
  });

  it('applies the bundle first on every migrate', async () => {
    const { client, run } = await setup();
    expect(await relationExists(client, 'hectic.migration')).toBe(false);
    await run('migrate', 'up');
    expect(await relationExists(client, 'hectic.version')).toBe(true);
  });

  it('refuses to revert when a down file is missing, changing nothing (exit 1)', async () => {
    const { client, dir, run } = await setup();
    await run('migrate', 'up', 'all');
    fs.rmSync(path.join(dir, POSTS, 'down.sql'));
    const result = await run('migrate', 'down', '2');
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(POSTS);
    expect(result.stderr).toMatch(/down\.sql/);
    expect(await appliedNames(client)).toEqual(BASIC);
    expect(await relationExists(client, 'public.colors')).toBe(true);
  });
});

describe('migrate to', () => {
  it('goes forward, backward, stays, and accepts latest/head/last', async () => {
    const { client, run } = await setup();
    expect((await run('migrate', 'to', POSTS)).code).toBe(0);
    expect(await appliedNames(client)).toEqual([USERS, POSTS]);
    expect((await run('migrate', 'to', USERS)).code).toBe(0);
    expect(await appliedNames(client)).toEqual([USERS]);
    const same = await run('migrate', 'to', USERS);
    expect(same.code).toBe(0);
    expect(same.stderr).toMatch(/already at/);
    expect((await run('migrate', 'to', 'last')).code).toBe(0);
    expect(await appliedNames(client)).toEqual(BASIC);
    expect((await run('migrate', 'to', '20240101000000')).code).toBe(0);
    expect(await appliedNames(client)).toEqual([USERS]);
    for (const word of ['latest', 'head']) {
      await run('migrate', 'to', USERS);
      expect((await run('migrate', 'to', word)).code).toBe(0);
      expect(await appliedNames(client)).toEqual(BASIC);
    }
  });

  it('refuses an unknown NAME (exit 1) and a missing NAME (exit 3)', async () => {
    const { client, run } = await setup();
    const unknown = await run('migrate', 'to', '20990101000000-nope');
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/unknown migration/);
    expect(await appliedNames(client)).toEqual([]);
    expect((await run('migrate', 'to')).code).toBe(3);
  });
});

describe('drift protection', () => {
  it('refuses an applied migration missing on disk (exit 2, both lists); --force proceeds', async () => {
    const { client, dir, run } = await setup();
    await run('migrate', 'up', 'all');
    fs.rmSync(path.join(dir, POSTS), { recursive: true });
    const result = await run('migrate', 'up', '--allow-out-of-order');
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/history mismatch: applied migration missing on disk: 20240102000000-create-posts/);
    expect(result.stderr).toMatch(/applied in the database:[\s\S]*20240102000000-create-posts[\s\S]*on disk:/);
    const forced = await run('migrate', 'down', '--force');
    expect(forced.code, forced.stderr).toBe(0);
    expect(await appliedNames(client)).toEqual([USERS, POSTS]);
  });

  it('refuses when an applied up file changed (exit 2, naming it); --force proceeds', async () => {
    const { client, dir, run } = await setup();
    await run('migrate', 'up', '2');
    fs.appendFileSync(path.join(dir, USERS, 'up.sql'), '-- edited after it was applied\n');
    const status = await run('migrate', 'status');
    expect(lines(status.stdout)[0]).toMatch(new RegExp(`^${USERS}  changed  \\d{4}-`));
    const result = await run('migrate', 'up');
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(USERS);
    expect(result.stderr).toMatch(/changed/);
    expect(await appliedNames(client)).toEqual([USERS, POSTS]);
    const forced = await run('--force', 'migrate', 'up');
    expect(forced.code, forced.stderr).toBe(0);
    expect(await appliedNames(client)).toEqual(BASIC);
  });

  it('detects a changed nested entrypoint too', async () => {
    const { dir, run } = await setup();
    await run('migrate', 'up', 'all');
    fs.appendFileSync(path.join(dir, COLORS, 'up', 'entrypoint.sql'), '-- edited\n');
    const result = await run('migrate', 'down');
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(COLORS);
  });

  it('shows an applied migration whose folder is gone as missing, and refuses to migrate (exit 2)', async () => {
    const { client, dir, run } = await setup();
    await run('migrate', 'up', 'all');
    fs.rmSync(path.join(dir, COLORS), { recursive: true });
    const status = await run('migrate', 'status');
    expect(status.code).toBe(0);
    expect(lines(status.stdout)[2]).toMatch(new RegExp(`^${COLORS} +missing  `));
    expect((await run('migrate', 'down')).code).toBe(2);
    expect(await appliedNames(client)).toEqual(BASIC);
  });
});

describe('failures', () => {
  it('rolls back the failing migration with its row (exit 4); earlier ones stay', async () => {
    const { client, dir, run } = await setup(null);
    tableMigration(dir, '20240101000000-first', 'first_table');
    writeMigration(dir, '20240102000000-broken', {
      'up.sql': 'CREATE TABLE public.half_done (id int) INHERITS (hectic.created_at);\nSELECT 1 / 0;\n',
      'down.sql': 'DROP TABLE public.half_done;\n',
    });
    tableMigration(dir, '20240103000000-third', 'third_table');
    const result = await run('migrate', 'up', 'all');
    expect(result.code).toBe(4);
    expect(result.stderr).toContain('20240102000000-broken');
    expect(result.stderr).toMatch(/up\.sql:2/);
    expect(result.stderr).toMatch(/division by zero/);
    expect(await appliedNames(client)).toEqual(['20240101000000-first']);
    expect(await relationExists(client, 'public.first_table')).toBe(true);
    expect(await relationExists(client, 'public.half_done')).toBe(false);
    expect(await relationExists(client, 'public.third_table')).toBe(false);
  });

  it('rolls back a failing down migration (exit 4); it stays applied', async () => {
    const { client, dir, run } = await setup();
    await run('migrate', 'up', 'all');
    fs.writeFileSync(path.join(dir, POSTS, 'down.sql'), 'DROP TABLE public.posts;\nSELECT no_such_function();\n');
    const result = await run('migrate', 'down', 'all');
    expect(result.code).toBe(4);
    expect(result.stderr).toContain(POSTS);
    expect(await appliedNames(client)).toEqual([USERS, POSTS]);
    expect(await relationExists(client, 'public.posts')).toBe(true);
  });

  it('refuses malformed folders before anything changes', async () => {
    const { client, dir, run } = await setup();
    fs.mkdirSync(path.join(dir, 'not-a-migration'));
    const badName = await run('migrate', 'up');
    expect(badName.code).toBe(1);
    expect(badName.stderr).toContain('not-a-migration');
    expect(lines(badName.stderr)).toHaveLength(1);
    fs.rmSync(path.join(dir, 'not-a-migration'), { recursive: true });

    writeMigration(dir, '20250101000000-no-up', { 'down.sql': 'SELECT 1;\n' });
    const noUp = await run('migrate', 'up', 'all');
    expect(noUp.code).toBe(1);
    expect(noUp.stderr).toMatch(/20250101000000-no-up: missing up\.sql/);
    fs.rmSync(path.join(dir, '20250101000000-no-up'), { recursive: true });

    writeMigration(dir, '20250101000000-both', { 'up.sql': 'SELECT 1;\n', 'up/entrypoint.sql': 'SELECT 1;\n' });
    const both = await run('migrate', 'up', 'all');
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/both up\.sql and up\//);
    expect(await appliedNames(client)).toEqual([]);
    expect(await relationExists(client, 'hectic.migration')).toBe(false);
  });
});

describe('arguments', () => {
  it('treats a command word where NAME or N is expected as ambiguous (exit 2)', async () => {
    const { client, run } = await setup();
    for (const args of [['migrate', 'to', 'up'], ['migrate', 'up', 'down'], ['migrate', 'down', 'status'], ['list', 'migrate'], ['migrate', 'list']]) {
      const result = await run(...args);
      expect(result.code, args.join(' ')).toBe(2);
    }
    expect(await relationExists(client, 'hectic.migration')).toBe(false);
  });

  it('unknown command or option → 9, bad N → 1, migrate alone → 3, no arguments → 1', async () => {
    const { run } = await setup();
    expect((await run('frobnicate')).code).toBe(9);
    expect((await run('migrate', 'sideways')).code).toBe(9);
    expect((await run('list', '--bogus')).code).toBe(9);
    expect((await run('migrate', 'up', 'many')).code).toBe(1);
    expect((await run('migrate', 'down', 'latest')).code).toBe(1);
    expect((await run('migrate', 'up', '0')).code).toBe(1);
    expect((await run('migrate')).code).toBe(3);
    const bare = await migrator([]);
    expect(bare.code).toBe(1);
    expect(bare.stderr).toMatch(/Usage/);
  });

  it('needs a URL for migrate and status (exit 3)', async () => {
    const { dir } = await setup();
    for (const args of [['migrate', 'up'], ['migrate', 'status'], ['status']]) {
      const result = await migrator(['-d', dir, ...args], { DB_URL: undefined, PGURL: undefined });
      expect(result.code, args.join(' ')).toBe(3);
    }
  });

  it('prints the version and help', async () => {
    const version = await migrator(['--version']);
    expect(version.code).toBe(0);
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
    expect((await migrator(['-V'])).stdout).toBe(version.stdout);
    for (const args of [['--help'], ['-h'], ['help'], ['help', 'migrate'], ['migrate', 'up', '--help']]) {
      const help = await migrator(args);
      expect(help.code, args.join(' ')).toBe(0);
      expect(help.stdout).toMatch(/Usage: migrator/);
    }
  });

  it('accepts --inherits, ignores it and warns', async () => {
    const { run } = await setup();
    const result = await run('--inherits', 'public.users', 'list');
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(/--inherits is ignored/);
    expect(lines(result.stdout)).toEqual(BASIC);
  });

  it('takes the URL from --db-url, then DB_URL, then PGURL', async () => {
    const a = await work.database();
    const b = await work.database();
    const dir = work.folder('basic');
    expect((await migrator(['-d', dir, 'migrate', 'up'], { DB_URL: a.url, PGURL: b.url })).code).toBe(0);
    expect(await appliedNames(a.client)).toEqual([USERS]);
    expect(await appliedNames(b.client)).toEqual([]);
    expect((await migrator(['-d', dir, 'migrate', 'up'], { DB_URL: undefined, PGURL: b.url })).code).toBe(0);
    expect(await appliedNames(b.client)).toEqual([USERS]);
    expect((await migrator(['-d', dir, '--db-url', b.url, 'migrate', 'up'], { DB_URL: a.url })).code).toBe(0);
    expect(await appliedNames(b.client)).toEqual([USERS, POSTS]);
    expect(await appliedNames(a.client)).toEqual([USERS]);
  });

  it('takes the folder from --migration-dir, then MIGRATION_DIR, then ./migration', async () => {
    const { url } = await work.database();
    const project = work.folder();
    fs.cpSync(path.join(work.folder('basic')), path.join(project, 'migration'), { recursive: true });
    const other = work.folder();
    tableMigration(other, '20240101000000-other', 'other');
    const fromCwd = await migrator(['-u', url, 'list', '--raw'], {}, project);
    expect(lines(fromCwd.stdout)).toEqual(BASIC);
    const fromEnv = await migrator(['-u', url, 'list', '--raw'], { MIGRATION_DIR: other }, project);
    expect(lines(fromEnv.stdout)).toEqual(['20240101000000-other']);
    const fromFlag = await migrator(['--migration-dir', path.join(project, 'migration'), 'list', '--raw'], { MIGRATION_DIR: other });
    expect(lines(fromFlag.stdout)).toEqual(BASIC);
    const missing = await migrator(['-d', path.join(project, 'nope'), 'list']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/migration folder not found/);
  });

  it('with LOCAL_DIR set, uses $LOCAL_DIR/db/migration (the folder of `database migrator`) for every command, create included', async () => {
    const { url } = await work.database();
    const project = work.folder();
    const elsewhere = work.folder();
    fs.mkdirSync(path.join(elsewhere, 'migration'));
    const env = { LOCAL_DIR: project };
    const created = await migrator(['create', '--name', 'first'], env, elsewhere);
    expect(created.code, created.stderr).toBe(0);
    expect(path.dirname(created.stdout.trim())).toBe(path.join(project, 'db', 'migration'));
    expect(fs.readdirSync(path.join(elsewhere, 'migration'))).toEqual([]);
    const name = path.basename(created.stdout.trim());
    fs.writeFileSync(path.join(created.stdout.trim(), 'up.sql'), 'CREATE TABLE public.first (id int) INHERITS (hectic.created_at);\n');
    fs.writeFileSync(path.join(created.stdout.trim(), 'down.sql'), 'DROP TABLE public.first;\n');
    expect(lines((await migrator(['list', '--raw'], env, elsewhere)).stdout)).toEqual([name]);
    expect((await migrator(['-u', url, 'migrate', 'up', 'all'], env, elsewhere)).code).toBe(0);
    expect((await migrator(['-u', url, 'migrate', 'status'], env, elsewhere)).stdout).toMatch(new RegExp(`^${name}  applied  `));
    expect((await migrator(['-u', url, 'migrate', 'down'], env, elsewhere)).code).toBe(0);
    // The same folder as `database migrator`, and MIGRATION_DIR still comes first.
    const viaDatabase = await runBin('database', ['migrator', 'list', '--raw'], { env, cwd: elsewhere });
    expect(lines(viaDatabase.stdout)).toEqual([name]);
    const other = work.folder();
    tableMigration(other, '20240101000000-other', 'other');
    expect(lines((await migrator(['list', '--raw'], { ...env, MIGRATION_DIR: other }, elsewhere)).stdout)).toEqual(['20240101000000-other']);
  });

  it('passes --set/-v variables to the migrations, before or after the command', async () => {
    const { client, dir, run } = await setup(null);
    writeMigration(dir, '20240101000000-vars', {
      'up.sql': "CREATE TABLE public.settings (k text, v text) INHERITS (hectic.created_at);\nINSERT INTO public.settings (k, v) VALUES ('greeting', :'greeting'), ('owner', :'owner');\n",
      'down.sql': 'DROP TABLE public.settings;\n',
    });
    const result = await run('-v', 'greeting=hello world', 'migrate', 'up', '--set', "owner=o'brien");
    expect(result.code, result.stderr).toBe(0);
    const { rows } = await client.query('SELECT k, v FROM public.settings ORDER BY k');
    expect(rows).toEqual([{ k: 'greeting', v: 'hello world' }, { k: 'owner', v: "o'brien" }]);
    expect((await run('-v', 'no-equals-sign', 'migrate', 'down')).code).toBe(1);
  });
});

describe('--dry-run', () => {
  it('prints the plan and changes nothing, not even the bundle', async () => {
    const { client, run } = await setup();
    const up = await run('migrate', 'up', 'all', '--dry-run');
    expect(up.code, up.stderr).toBe(0);
    expect(lines(up.stdout)).toEqual(BASIC.map((name) => `up ${name}`));
    expect(await relationExists(client, 'hectic.version')).toBe(false);

    await run('migrate', 'up', 'all');
    const down = await run('--dry-run', 'migrate', 'to', USERS);
    expect(down.code).toBe(0);
    expect(lines(down.stdout)).toEqual([`down ${COLORS}`, `down ${POSTS}`]);
    expect(await appliedNames(client)).toEqual(BASIC);
    // Refusals apply to a dry run as well.
    expect((await run('--dry-run', 'migrate', 'down', '9')).code).toBe(1);
  });
});

describe('status', () => {
  it('prints NAME  STATE  APPLIED_AT per line in aligned columns, and JSON with --json', async () => {
    const { client, run } = await setup();
    await run('migrate', 'up');
    const text = await run('migrate', 'status');
    expect(text.code).toBe(0);
    const [first, second, third] = lines(text.stdout);
    expect(first).toMatch(new RegExp(`^${USERS}  applied  \\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d(\\.\\d+)?Z$`));
    expect(second).toBe(`${POSTS}  pending  -`);
    // Aligned: the shorter name is padded to the longest.
    expect(third).toBe(`${COLORS.padEnd(USERS.length)}  pending  -`);
    expect((await run('status')).stdout).toBe(text.stdout);

    const parsed = JSON.parse((await run('migrate', 'status', '--json')).stdout);
    expect(parsed.migrationDir).toEqual(expect.any(String));
    expect(parsed.migrations).toHaveLength(3);
    expect(parsed.migrations[0]).toEqual({
      name: USERS,
      state: 'applied',
      appliedAt: expect.stringMatching(/Z$/),
      hash: expect.stringMatching(/^[0-9a-f]{64}$/),
      appliedHash: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
    expect(parsed.migrations[1]).toEqual({ name: POSTS, state: 'pending', appliedAt: null, hash: expect.any(String), appliedHash: null });
    const { rows } = await client.query('SELECT hash::text AS hash FROM hectic.migration');
    expect(parsed.migrations[0].appliedHash).toBe(rows[0].hash);
  });

  it('only reads: on a database without the bundle everything is pending', async () => {
    const { client, run } = await setup();
    const result = await run('migrate', 'status');
    expect(result.code).toBe(0);
    expect(lines(result.stdout).every((line) => line.includes('  pending  -'))).toBe(true);
    expect(await relationExists(client, 'hectic.version')).toBe(false);
  });
});

describe('create and list', () => {
  it('creates YYYYMMDDHHMMSS-name folders with up.sql and down.sql, in creation order', async () => {
    const dir = path.join(work.folder(), 'not-yet');
    const named = await migrator(['-d', dir, 'create', '--name', 'add users']);
    expect(named.code, named.stderr).toBe(0);
    const created = named.stdout.trim();
    expect(path.basename(created)).toMatch(/^\d{14}-add-users$/);
    expect(fs.readdirSync(created).sort()).toEqual(['down.sql', 'up.sql']);
    const stamp = path.basename(created).slice(0, 14);
    const now = new Date().toISOString().replace(/[-:T]/g, '').slice(0, 8);
    expect(stamp.slice(0, 8)).toBe(now);

    const random = await migrator(['-d', dir, 'create']);
    expect(random.code).toBe(0);
    expect(path.basename(random.stdout.trim())).toMatch(/^\d{14}-[a-z]+$/);
    const listed = lines((await migrator(['-d', dir, 'list', '--raw'])).stdout);
    expect(listed).toEqual([path.basename(created), path.basename(random.stdout.trim())]);
    expect((await migrator(['-d', dir, 'create', '--name', 'bad/name'])).code).toBe(1);
  });

  it('list marks missing files; --raw prints names only', async () => {
    const { dir } = await setup();
    fs.rmSync(path.join(dir, POSTS, 'down.sql'));
    fs.rmSync(path.join(dir, COLORS, 'down'), { recursive: true });
    writeMigration(dir, '20240104000000-only-down', { 'down.sql': 'SELECT 1;\n' });
    const result = await migrator(['-d', dir, 'list']);
    expect(result.code).toBe(0);
    expect(lines(result.stdout)).toEqual([
      USERS,
      `${POSTS}: missing down.sql`,
      `${COLORS}: missing down/entrypoint.sql`,
      '20240104000000-only-down: missing up.sql',
    ]);
    const raw = await migrator(['-d', dir, 'list', '--raw']);
    expect(lines(raw.stdout)).toEqual([USERS, POSTS, COLORS, '20240104000000-only-down']);
  });
});

describe('concurrency', () => {
  it('two concurrent `migrate up all` runs apply each migration exactly once', async () => {
    const { client, dir, url } = await setup(null);
    writeMigration(dir, '20240101000000-log', {
      'up.sql': 'CREATE TABLE public.run_log (name text) INHERITS (hectic.created_at);\n',
      'down.sql': 'DROP TABLE public.run_log;\n',
    });
    for (let i = 1; i <= 30; i += 1) {
      const name = `202401020000${String(i).padStart(2, '0')}-step`;
      writeMigration(dir, name, {
        'up.sql': `INSERT INTO public.run_log (name) VALUES ('${name}');\nSELECT pg_sleep(0.005);\n`,
        'down.sql': `DELETE FROM public.run_log WHERE name = '${name}';\n`,
      });
    }
    const [a, b] = await Promise.all([
      migrator(['-u', url, '-d', dir, 'migrate', 'up', 'all']),
      migrator(['-u', url, '-d', dir, 'migrate', 'up', 'all']),
    ]);
    expect(a.code, a.stderr).toBe(0);
    expect(b.code, b.stderr).toBe(0);
    expect(await appliedNames(client)).toHaveLength(31);
    const { rows } = await client.query('SELECT name, count(*)::int AS n FROM public.run_log GROUP BY name HAVING count(*) > 1');
    expect(rows).toEqual([]);
    expect((await client.query('SELECT count(*)::int AS n FROM public.run_log')).rows[0].n).toBe(30);
    expect(`${a.stderr}${b.stderr}`).toMatch(/nothing to migrate/);
  });
});
