/**
 * `database test` against a real PostgreSQL: which files run, each in its own copy of
 * the target (made, dropped, cleared after a crash, the fallback when sessions block
 * the copy), in parallel, the report (per-file lines, -v, summary, TODO passed, no
 * colour off a terminal), TAP verdicts, SQL errors, --junit, --inherits. The target
 * comes from $PGURL.
 */
import fs from 'node:fs';
import path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { DOMParser, type Element } from '@xmldom/xmldom';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parseExports, runBin, runProgram } from './helpers/cli.js';
import { startTestCluster, type TestCluster } from './helpers/cluster.js';
import { makeTempDir, ROOT } from './helpers/env.js';
import { copyProject, createDatabase, databaseOf, processesMentioning, queryValue, spawnDatabase, urlFor, waitFor, withDb, type Project } from './helpers/project.js';
import { PG_DUMP_FITS_SERVER } from './helpers/pg-versions.js';
import { withDatabaseFreeOfCronLauncher } from '../src/cluster/cron-launcher.js';

let cluster: TestCluster;
let project: Project;
let scratch: string;
let url: string;

beforeAll(async () => {
  cluster = await startTestCluster();
  project = copyProject('deploy-project');
  scratch = makeTempDir('db-tool-dbtest-');
  url = await createDatabase(cluster.url, 'dbtest');
  const hydrated = await runBin('database', ['--url', url, 'hydrate'], { env: { LOCAL_DIR: project.dir } });
  if (hydrated.code !== 0) throw new Error(`hydrate failed: ${hydrated.stderr}`);
});

afterAll(async () => {
  await cluster?.stop();
  project?.remove();
  if (scratch) fs.rmSync(scratch, { recursive: true, force: true });
});

/** Writes a test file below the scratch folder (folders made as needed). */
function testFile(name: string, sql: string): string {
  const file = path.join(scratch, name);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, sql);
  return file;
}

function dbTest(args: string[], env: Record<string, string | undefined> = {}) {
  return runBin('database', ['test', ...args], { env: { LOCAL_DIR: project.dir, PGURL: url, ...env }, cwd: scratch });
}

/** A TAP file of `count` passing tests. */
function passing(count: number, label = 't'): string {
  return [`\\echo 1..${count}`, ...Array.from({ length: count }, (_, i) => `SELECT 'ok ${i + 1} - ${label}${i + 1}';`), ''].join('\n');
}

async function testDatabases(): Promise<string[]> {
  return withDb(urlFor(cluster.url, 'postgres'), async (client) => {
    const result = await client.query<{ datname: string }>("SELECT datname FROM pg_database WHERE datname LIKE 'dbtool\\_test\\_%' ORDER BY 1");
    return result.rows.map((row) => row.datname);
  });
}

async function testTablespaces(): Promise<string[]> {
  return withDb(urlFor(cluster.url, 'postgres'), async (client) => {
    const result = await client.query<{ spcname: string }>("SELECT spcname FROM pg_tablespace WHERE spcname LIKE 'dbtool\\_test\\_%'");
    return result.rows.map((row) => row.spcname);
  });
}

/** The pid of a `database test` run, read from the copy name a file printed (`dbtool_test_<pid>_<n>`). */
function ownerPid(stdout: string): number {
  const match = /dbtool_test_(\d+)_\d+/.exec(stdout);
  if (!match?.[1]) throw new Error(`no copy name in: ${stdout}`);
  return Number(match[1]);
}

/**
 * A file that passes only when another file of the same run is in it at the same time: a
 * barrier, each waits (at most 30 s each phase) until both are in it. The statistics snapshot is per transaction, hence pg_stat_clear_snapshot(). */
const MEET = [
  '\\echo 1..1',
  "SET application_name = 'dbtool-wait';",
  'DO $$',
  "DECLARE run text := 'dbtool\\_test\\_' || split_part(current_database(), '_', 3) || '\\_%';",
  'BEGIN',
  '  FOR i IN 1..600 LOOP',
  '    PERFORM pg_stat_clear_snapshot();',
  "    EXIT WHEN (SELECT count(*) FROM pg_stat_activity WHERE datname LIKE run AND application_name IN ('dbtool-wait', 'dbtool-met')) >= 2;",
  '    PERFORM pg_sleep(0.05);',
  '  END LOOP;',
  "  IF (SELECT count(*) FROM pg_stat_activity WHERE datname LIKE run AND application_name IN ('dbtool-wait', 'dbtool-met')) < 2 THEN",
  "    RAISE EXCEPTION 'no other file ran at the same time';",
  '  END IF;',
  "  PERFORM set_config('application_name', 'dbtool-met', false);",
  '  FOR i IN 1..600 LOOP',
  '    PERFORM pg_stat_clear_snapshot();',
  "    EXIT WHEN NOT EXISTS (SELECT FROM pg_stat_activity WHERE datname LIKE run AND application_name = 'dbtool-wait');",
  '    PERFORM pg_sleep(0.05);',
  '  END LOOP;',
  'END $$;',
  "SELECT 'ok 1 - another file ran at the same time';",
  '',
].join('\n');

/** Prints the database the file runs in as the description of test 1. */
const WHERE_AM_I = "\\echo 1..1\nSELECT 'ok 1 - in ' || current_database();\n";

describe('database test: which files', () => {
  it('runs every *.sql below $DATABASE_DIR/test/, in name order, folders included', async () => {
    const dbDir = path.join(scratch, 'default-db');
    for (const [name, sql] of [['test/b.sql', passing(1)], ['test/a.sql', passing(2)], ['test/sub/c.sql', passing(3)], ['test/notes.txt', 'not SQL']] as const) {
      fs.mkdirSync(path.dirname(path.join(dbDir, name)), { recursive: true });
      fs.writeFileSync(path.join(dbDir, name), sql);
    }
    const result = await dbTest(['-j', '1'], { DATABASE_DIR: dbDir });
    expect(result.code, result.stderr).toBe(0);
    const files = result.stdout.split('\n').filter((line) => line.startsWith('ok ')).map((line) => line.split(/\s+/)[1]);
    expect(files).toEqual(['default-db/test/a.sql', 'default-db/test/b.sql', 'default-db/test/sub/c.sql']);
    expect(result.stdout).toContain('PASS: 6 passed (3 files');
  });

  it('a run of more files than Node allows listeners on one signal (10): all pass, and Node warns of nothing', async () => {
    // runBin fails on a warning Node prints: one AbortSignal served every psql of a run,
    // and each kept a listener on it (MaxListenersExceededWarning from the eleventh file).
    for (let i = 1; i <= 12; i += 1) testFile(`many/t${String(i).padStart(2, '0')}.sql`, passing(1));
    const result = await dbTest(['-j', '2', 'many']);
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toContain('PASS: 12 passed (12 files');
  });

  it('runs the files and folders given, relative to the current directory, each file once', async () => {
    testFile('given/one.sql', passing(1));
    testFile('given/deeper/two.sql', passing(2));
    testFile('lone.sql', passing(1));
    testFile("odd names/it's \\ here.sql", passing(1));
    const result = await dbTest(['given', 'lone.sql', 'given/one.sql', "odd names/it's \\ here.sql"]);
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toContain('PASS: 5 passed (4 files');
  });

  it('psql features work as with -f: \\ir relative to the file, errors in an included file name it', async () => {
    testFile('lib/helper.psql', "SELECT 'ok 2 - from the helper';\n");
    testFile('lib/broken.psql', "SELECT 1;\nSELECT * FROM app.nope;\n");
    const uses = testFile('inc/uses.sql', "\\echo 1..2\nSELECT 'ok 1 - before';\n\\ir ../lib/helper.psql\n");
    const broken = testFile('inc/broken.sql', "\\echo 1..1\n\\ir ../lib/broken.psql\nSELECT 'ok 1 - never';\n");
    const result = await dbTest(['-v', uses, broken]);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('ok 2 - from the helper');
    expect(result.stdout).toMatch(/^ok {5}inc\/uses\.sql {2}2 passed/m);
    expect(result.stdout).toContain('       lib/broken.psql:2: relation "app.nope" does not exist\n');
    expect(result.stdout).toContain('2 | SELECT * FROM app.nope;');
  });

  it('a missing file → exit 1 with its path, and nothing runs; so does a missing or empty test folder', async () => {
    testFile('runs.sql', "SELECT 'ok 1 - should not run';\n");
    const result = await dbTest(['runs.sql', 'missing.sql']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(path.join(scratch, 'missing.sql'));
    expect(result.stdout).toBe('');
    const noDefault = await dbTest([], { DATABASE_DIR: path.join(scratch, 'nodb') });
    expect(noDefault.code).toBe(1);
    expect(noDefault.stderr).toContain(path.join(scratch, 'nodb', 'test'));
    fs.mkdirSync(path.join(scratch, 'empty', 'test'), { recursive: true });
    const empty = await dbTest(['empty']);
    expect(empty.code).toBe(1);
    expect(empty.stderr).toContain(`no test files (*.sql) in ${path.join(scratch, 'empty')}`);
  });

  it('runs $DATABASE_DIR/test/test.sql of the fixture project by default', async () => {
    const result = await dbTest([]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^ok {5}\S*db\/test\/test\.sql {2}2 passed {2}\(/m);
  });
});

describe('database test: each file in its own copy of the target', () => {
  afterEach(async () => {
    await withDb(url, (client) => client.query('ALTER DATABASE ' + databaseOf(url) + ' RESET ALL'));
  });

  it('files cannot see each other\'s changes, the target stays as it was, and every copy is dropped', async () => {
    const writer = testFile('iso/a-writer.sql', "\\echo 1..1\nCREATE TABLE app.scratch (id int) INHERITS (hectic.created_at);\nINSERT INTO app.item (name) VALUES ('left behind');\nSELECT 'ok 1 - wrote';\n");
    const reader = testFile('iso/b-reader.sql', [
      '\\echo 1..2',
      "SELECT CASE WHEN to_regclass('app.scratch') IS NULL THEN 'ok' ELSE 'not ok' END || ' 1 - no table of the other file';",
      "SELECT CASE WHEN count(*) = 0 THEN 'ok' ELSE 'not ok' END || ' 2 - no items, as hydrated' FROM app.item;",
      '',
    ].join('\n'));
    const where = testFile('iso/c-where.sql', WHERE_AM_I);
    const result = await dbTest(['-v', writer, reader, where]);
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toMatch(/ok 1 - in dbtool_test_\d+_\d+$/m);
    const pid = ownerPid(result.stdout);
    expect(await withDb(url, async (client) => (await client.query("SELECT to_regclass('app.scratch') AS t")).rows[0].t)).toBeNull();
    expect(await testDatabases()).toEqual([]);
    expect(await testTablespaces()).toEqual([]);
    expect(fs.readdirSync('/dev/shm').filter((entry) => entry.startsWith(`db-tool-test-${pid}-`))).toEqual([]);
  });

  it('-j 2 runs two files at the same time; -j 1 one after another (the next psql may wait, connected)', async () => {
    const files = [testFile('par/one.sql', MEET), testFile('par/two.sql', MEET)];
    const parallel = await dbTest(['-j', '2', ...files]);
    expect(parallel.code, parallel.stdout + parallel.stderr).toBe(0);
    const alone = [
      '\\echo 1..1',
      "SELECT CASE WHEN (SELECT count(DISTINCT datname) FROM pg_stat_activity WHERE datname LIKE 'dbtool\\_test\\_' || split_part(current_database(), '_', 3) || '\\_%' AND state = 'active') = 1",
      "  THEN 'ok' ELSE 'not ok' END || ' 1 - alone';",
      '',
    ].join('\n');
    const serial = await dbTest(['-j', '1', testFile('ser/one.sql', alone), testFile('ser/two.sql', alone), testFile('ser/three.sql', alone)]);
    expect(serial.code, serial.stdout).toBe(0);
    expect(serial.stdout).toContain('PASS: 3 passed (3 files');
  });

  it('a copy has the settings of the target (ALTER DATABASE … SET)', async () => {
    const database = databaseOf(url);
    await withDb(url, async (client) => {
      await client.query(`ALTER DATABASE ${database} SET search_path = app, "$user", public`);
      await client.query(`ALTER DATABASE ${database} SET dbtool.flavour = 'mint, with a comma'`);
    });
    const file = testFile('settings.sql', [
      '\\echo 1..2',
      "SELECT CASE WHEN current_setting('search_path') = 'app, \"$user\", public' THEN 'ok' ELSE 'not ok' END || ' 1 - search_path ' || current_setting('search_path');",
      "SELECT CASE WHEN current_setting('dbtool.flavour') = 'mint, with a comma' THEN 'ok' ELSE 'not ok' END || ' 2 - flavour';",
      '',
    ].join('\n'));
    const result = await dbTest(['-v', file, testFile('settings-2.sql', WHERE_AM_I)]);
    expect(result.code, result.stdout).toBe(0);
    expect(result.stdout).toMatch(/ok 1 - in dbtool_test_/);
  });

  it('drops the copies a crashed run left (its pid is gone) and keeps those of a live run', async () => {
    const gone = spawnSync('true').pid;
    expect(gone).toBeGreaterThan(0);
    const dead = `dbtool_test_${gone}_7`;
    const live = `dbtool_test_${process.pid}_7`;
    await withDb(urlFor(cluster.url, 'postgres'), async (client) => {
      await client.query(`CREATE DATABASE ${dead}`);
      await client.query(`CREATE DATABASE ${live}`);
    });
    try {
      const result = await dbTest([testFile('after-crash.sql', passing(1))]);
      expect(result.code, result.stderr).toBe(0);
      expect(result.stderr).toContain('cleared 1 test database left by runs that ended without cleaning up');
      expect(await testDatabases()).toEqual([live]);
    } finally {
      await withDb(urlFor(cluster.url, 'postgres'), (client) => client.query(`DROP DATABASE IF EXISTS ${live}`));
    }
  });

  it('a session on the target blocks copies: one clear warning, then the files run in the target, one after another', async () => {
    await withDb(url, async () => {
      const result = await dbTest(['-v', testFile('blocked/a.sql', WHERE_AM_I), testFile('blocked/b.sql', WHERE_AM_I)]);
      expect(result.code, result.stderr).toBe(0);
      const warnings = result.stderr.split('\n').filter((line) => line.startsWith('warn:'));
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toContain(`cannot give each test file its own copy: ${databaseOf(url)} is in use by a session (pid`);
      expect(warnings[0]).toContain('Running the files in the target database itself, one after another');
      expect(result.stdout.match(new RegExp(`ok 1 - in ${databaseOf(url)}$`, 'gm'))).toHaveLength(2);
    });
    expect(await testDatabases()).toEqual([]);
  });

  it('a user who may not copy the target gets the same fallback, saying why', async () => {
    await withDb(urlFor(cluster.url, 'postgres'), (client) => client.query('CREATE ROLE dbtool_plain LOGIN'));
    try {
      const asPlain = url.replace(/^postgresql:\/\/[^@]*@/, 'postgresql://dbtool_plain@');
      const result = await dbTest(['-v', testFile('plain/a.sql', WHERE_AM_I), testFile('plain/b.sql', WHERE_AM_I)], { PGURL: asPlain });
      expect(result.code, result.stderr).toBe(0);
      expect(result.stderr).toContain('cannot give each test file its own copy: permission denied to create database');
      expect(result.stdout.match(new RegExp(`ok 1 - in ${databaseOf(url)}$`, 'gm'))).toHaveLength(2);
    } finally {
      await withDb(urlFor(cluster.url, 'postgres'), (client) => client.query('DROP ROLE dbtool_plain'));
    }
  });

  it('SIGTERM during a run ends its psql processes and drops its copies, then exits 143', async () => {
    const slow = testFile('slow.sql', "\\echo 1..1\nSELECT pg_sleep(60);\nSELECT 'ok 1 - slept';\n");
    const { child, done } = spawnDatabase(['test', slow, testFile('slow-2.sql', passing(1))], { LOCAL_DIR: project.dir, PGURL: url });
    try {
      await waitFor(async () => (await testDatabases()).some((name) => name.startsWith(`dbtool_test_${child.pid}_`) && !name.endsWith('_0')), 90_000, 'a test copy');
      child.kill('SIGTERM');
      const result = await done;
      expect(result.code, result.stderr).toBe(143);
      expect(processesMentioning(`dbtool_test_${child.pid}_`)).toEqual([]); // no psql of the run is left
      expect(await testDatabases()).toEqual([]);
      expect(await testTablespaces()).toEqual([]);
      expect(fs.readdirSync('/dev/shm').filter((entry) => entry.startsWith(`db-tool-test-${child.pid}-`))).toEqual([]);
    } finally {
      child.kill('SIGKILL');
    }
  });
});

// pg_cron must be installed for the server: the PostgreSQL matrix's server builds have
// none, so these stay on the PostgreSQL whose pg_dump fits (15 in CI, with pg_cron).
describe.skipIf(!PG_DUMP_FITS_SERVER)("database test with pg_cron preloaded (the default): its scheduler, connected to the target, steps aside for the copy", () => {
  let dir: string;
  let cronUrl: string;
  let env: Record<string, string | undefined>;

  beforeAll(async () => {
    dir = makeTempDir('db-tool-dbtest-cron-');
    // The project's own cluster as a user gets it: PG_SHARED_PRELOAD_LIBRARIES unset.
    env = { LOCAL_DIR: project.dir, PG_WORKING_DIR: path.join(dir, 'pg'), PG_SHARED_PRELOAD_LIBRARIES: undefined };
    const init = await runBin('postgres-init', ['--env'], { env });
    if (init.code !== 0) throw new Error(`postgres-init failed (${init.code}): ${init.stderr}`);
    cronUrl = parseExports(init.stdout).PGURL ?? '';
    env = { ...env, PGURL: cronUrl };
    const hydrated = await runBin('database', ['hydrate'], { env });
    if (hydrated.code !== 0) throw new Error(`hydrate failed: ${hydrated.stderr}`);
  });

  afterAll(async () => {
    if (dir) {
      await runBin('postgres-cleanup', [], { env });
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  const cronTest = (args: string[]) => runBin('database', ['test', ...args], { env: { ...env, HECTIC_LOG: 'debug' }, cwd: scratch });

  const scheduler = (): Promise<number | undefined> =>
    queryValue<number>(cronUrl, "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND backend_type = 'pg_cron launcher'");

  /** The scheduler is connected to the target again, as a new process: it was restarted, not stopped. */
  async function expectSchedulerBack(before: number): Promise<void> {
    await waitFor(async () => {
      const now = await scheduler();
      return now !== undefined && now !== before;
    }, 90_000, "pg_cron's scheduler back on the target");
  }

  async function cronTestDatabases(): Promise<string[]> {
    return withDb(urlFor(cronUrl, 'postgres'), async (client) =>
      (await client.query<{ datname: string }>("SELECT datname FROM pg_database WHERE datname LIKE 'dbtool\\_test\\_%'")).rows.map((row) => row.datname));
  }

  /** A file that makes a table, puts one row in it and counts: one row only if no other file shares its database. */
  const ownsTable = (label: string): string => [
    '\\echo 1..2',
    'CREATE TABLE app.shared_name (n int) INHERITS (hectic.created_at);',
    'INSERT INTO app.shared_name (n) VALUES (1);',
    `SELECT CASE WHEN count(*) = 1 THEN 'ok' ELSE 'not ok' END || ' 1 - ${label} alone, in ' || current_database() FROM app.shared_name;`,
    "SELECT CASE WHEN current_setting('dbtool.flavour', true) = 'mint' THEN 'ok' ELSE 'not ok' END || ' 2 - the target''s settings';",
    '',
  ].join('\n');

  it('each file runs in its own TEMPLATE copy, in parallel: the scheduler is restarted for the snapshot and comes back; no pg_dump', async () => {
    const before = await scheduler();
    expect(before).toBeTypeOf('number');
    await withDb(cronUrl, (client) => client.query(`ALTER DATABASE ${databaseOf(cronUrl)} SET dbtool.flavour = 'mint'`));
    try {
      const files = [testFile('cron/a.sql', ownsTable('a')), testFile('cron/b.sql', ownsTable('b')), testFile('cron/meet-1.sql', MEET), testFile('cron/meet-2.sql', MEET)];
      const result = await cronTest(['-v', '-j', '2', ...files]);
      expect(result.code, result.stdout + result.stderr).toBe(0);
      expect(result.stderr).not.toMatch(/^warn/m);
      expect(result.stderr).not.toContain('pg_dump');
      expect(result.stderr).toContain(`debug: pg_cron's scheduler (pid ${before}) was restarted to free the target for the snapshot the copies are made from`);
      expect(result.stderr).toMatch(/^debug: each file runs in its own copy of the target/m);
      expect(result.stdout.match(/^ok 1 - [ab] alone, in dbtool_test_\d+_\d+$/gm)).toHaveLength(2);
      expect(result.stdout).toContain('PASS: 6 passed (4 files');
      expect(await queryValue(cronUrl, "SELECT to_regclass('app.shared_name')")).toBeNull();
      expect(await cronTestDatabases()).toEqual([]);
      await expectSchedulerBack(before ?? 0);
    } finally {
      await withDb(cronUrl, (client) => client.query(`ALTER DATABASE ${databaseOf(cronUrl)} RESET ALL`));
    }
  });

  it('withDatabaseFreeOfCronLauncher: work that starts after the scheduler is back (55006) is run again, with the scheduler restarted again', async () => {
    const before = await scheduler();
    const copy = 'dbtool_cron_retry_copy';
    await withDb(urlFor(cronUrl, 'postgres'), async (admin) => {
      const dataDirectory = (await admin.query<{ data_directory: string }>('SHOW data_directory')).rows[0]?.data_directory;
      let runs = 0;
      try {
        const result = await withDatabaseFreeOfCronLauncher(admin, databaseOf(cronUrl), async () => {
          runs += 1;
          // The first time too late: the restarted scheduler (1 s) is connected again by then.
          if (runs === 1) await waitFor(async () => ((await scheduler()) ?? before) !== before, 90_000, 'the scheduler back');
          await admin.query(`CREATE DATABASE ${copy} TEMPLATE ${databaseOf(cronUrl)}`);
          return runs;
        }, { dataDirectory });
        expect(result).toMatchObject({ freed: true, value: 2 });
        expect(result.freed && result.restarted).not.toBe(before);
      } finally {
        await admin.query(`DROP DATABASE IF EXISTS ${copy}`);
      }
    });
    await expectSchedulerBack(before ?? 0);
  });

  it('withDatabaseFreeOfCronLauncher: a scheduler that does not restart → why not, and the work never runs', async () => {
    const before = await scheduler();
    await withDb(urlFor(cronUrl, 'postgres'), async (admin) => {
      const dataDirectory = (await admin.query<{ data_directory: string }>('SHOW data_directory')).rows[0]?.data_directory;
      let ran = false;
      const result = await withDatabaseFreeOfCronLauncher(admin, databaseOf(cronUrl), async () => (ran = true), { dataDirectory, signal: () => undefined });
      expect(result).toEqual({ freed: false, reason: `pg_cron's scheduler (pid ${before}) did not restart on SIGFPE` });
      expect(ran).toBe(false);
      // Without the server's data directory (not a superuser), it is not touched either.
      const blind = await withDatabaseFreeOfCronLauncher(admin, databaseOf(cronUrl), async () => (ran = true), { dataDirectory: undefined });
      expect(blind).toEqual({ freed: false, reason: `pg_cron's scheduler (pid ${before}) cannot be restarted: only a superuser can tell where the server runs` });
      expect(ran).toBe(false);
    });
    expect(await scheduler()).toBe(before);
  });

  it('a psql connected to the target as well: the fallback, one warning saying who it is', async () => {
    const psql = spawn('psql', ['-X', '-q', '-c', 'SELECT pg_sleep(60)', cronUrl], { stdio: 'ignore' });
    try {
      await waitFor(async () => (await queryValue<number>(cronUrl, "SELECT count(*)::int FROM pg_stat_activity WHERE application_name = 'psql' AND datname = current_database()")) === 1, 90_000, 'psql connected');
      const result = await cronTest(['-v', testFile('cron-busy/a.sql', WHERE_AM_I), testFile('cron-busy/b.sql', WHERE_AM_I)]);
      expect(result.code, result.stderr).toBe(0);
      const warnings = result.stderr.split('\n').filter((line) => line.startsWith('warn:'));
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatch(/is in use by psql \(pid \d+, user \S+, socket, since \d\d:\d\d:\d\d\), and PostgreSQL copies only databases nobody is connected to \(end that session to give each file its own copy\)\. Running the files in the target database itself/);
      expect(warnings[0]).not.toContain("pg_cron's scheduler");
      expect(result.stdout.match(new RegExp(`ok 1 - in ${databaseOf(cronUrl)}$`, 'gm'))).toHaveLength(2);
    } finally {
      psql.kill('SIGKILL');
      // Its backend sleeps on without its client: end it, so the next test finds the target free.
      const psqlSessions = "SELECT count(*)::int FROM pg_stat_activity WHERE application_name = 'psql' AND datname = current_database()";
      await withDb(urlFor(cronUrl, 'postgres'), (client) => client.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'psql' AND datname = $1", [databaseOf(cronUrl)]));
      await waitFor(async () => (await queryValue<number>(cronUrl, psqlSessions)) === 0, 90_000, 'the psql session gone');
    }
  });

  it('a target with CREATE EXTENSION pg_cron and a job: each copy has the cron schema and the job; the scheduler keeps it', async () => {
    const before = await scheduler();
    await withDb(cronUrl, async (client) => {
      await client.query('CREATE EXTENSION pg_cron');
      await client.query("SELECT cron.schedule('db-tool-test-job', '0 3 * * *', 'SELECT 1')");
    });
    try {
      const jobs = "\\echo 1..1\nSELECT 'ok 1 - jobs: ' || count(*) || ' in ' || current_database() FROM cron.job;\n";
      const result = await cronTest(['-v', testFile('cron-ext/a.sql', WHERE_AM_I), testFile('cron-ext/b.sql', jobs)]);
      expect(result.code, result.stdout + result.stderr).toBe(0);
      expect(result.stderr).not.toMatch(/^warn/m);
      expect(result.stdout).toMatch(/^ok 1 - in dbtool_test_\d+_\d+$/m);
      expect(result.stdout).toMatch(/^ok 1 - jobs: 1 in dbtool_test_\d+_\d+$/m);
      expect(await cronTestDatabases()).toEqual([]);
      await expectSchedulerBack(before ?? 0);
      expect(await queryValue(cronUrl, "SELECT count(*)::int FROM cron.job WHERE jobname = 'db-tool-test-job'")).toBe(1);
    } finally {
      await withDb(cronUrl, (client) => client.query('DROP EXTENSION IF EXISTS pg_cron'));
    }
  });
});

describe('database test: the report', () => {
  it('one line per file with counts and duration, failures below it, a summary like pg_prove\'s, exit 1', async () => {
    const good = testFile('report/good.sql', passing(2));
    const bad = testFile('report/bad.sql', [
      '\\echo 1..5',
      "SELECT 'ok 1 - first';",
      "SELECT 'not ok 2 - second';",
      "\\echo '#     have: 1'",
      "\\echo '#     want: 2'",
      "SELECT 'ok 3 - third';",
      "SELECT 'not ok 4 - fourth';",
      "SELECT 'not ok 5 - fifth';",
      '',
    ].join('\n'));
    const result = await dbTest(['-j', '1', good, bad], { NO_COLOR: undefined });
    expect(result.code).toBe(1);
    const lines = result.stdout.split('\n');
    expect(lines).toContainEqual(expect.stringMatching(/^ok {5}report\/good\.sql {2}2 passed {2}\(\d+ ms\)$|^ok {5}report\/good\.sql {2}2 passed {2}\([\d.]+ s\)$/));
    expect(lines).toContainEqual(expect.stringMatching(/^FAILED report\/bad\.sql {2}2 passed, 3 failed {2}\(/));
    expect(result.stdout).toContain('       not ok 2 - second\n         #     have: 1\n         #     want: 2\n');
    expect(result.stdout).toContain('Test Summary Report\n-------------------\nreport/bad.sql\n  Failed tests: 2, 4-5\n');
    expect(lines).toContainEqual(expect.stringMatching(/^FAIL: 4 passed, 3 failed \(2 files, /));
    expect(result.stdout + result.stderr).not.toContain('error:');
    expect(result.stdout + result.stderr).not.toContain('\x1b[');
  });

  it('on a terminal: a live line with what is running (stderr), colours', async () => {
    // script(1) gives the run a pseudo-terminal for stdout and stderr.
    const file = testFile('tty.sql', passing(1));
    const command = `${path.join(ROOT, 'bin', 'database')} test ${file}`;
    const result = await runProgram('script', ['-qfec', command, '/dev/null'], { env: { LOCAL_DIR: project.dir, PGURL: url, NO_COLOR: undefined, TERM: 'xterm' }, cwd: scratch });
    expect(result.code, result.stdout).toBe(0);
    expect(result.stdout).toContain('… 0/1 done · running tty.sql');
    expect(result.stdout).toContain('\r\x1b[K');
    expect(result.stdout).toContain('\x1b[32mok    \x1b[39m tty.sql  1 passed');
  });

  it('colours only when asked for off a terminal (FORCE_COLOR)', async () => {
    const result = await dbTest([testFile('colour.sql', passing(1))], { NO_COLOR: undefined, FORCE_COLOR: '1' });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('\x1b[');
  });

  it('-v prints each file\'s TAP under a header, before its status line', async () => {
    const file = testFile('verbose.sql', passing(2, 'v'));
    const result = await dbTest(['-v', file]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^── verbose\.sql ──\n1\.\.2\nok 1 - v1\nok 2 - v2\nok {5}verbose\.sql {2}2 passed/m);
  });

  it('reports a TODO that passes, and TODO/SKIP failures do not fail the run', async () => {
    const file = testFile('todo.sql', [
      '\\echo 1..4',
      "SELECT 'ok 1 - works';",
      "SELECT 'not ok 2 - not yet # TODO write the feature';",
      "SELECT 'ok 3 - needs a secret # SKIP no dotenv';",
      "SELECT 'ok 4 - done already # TODO write the feature';",
      '',
    ].join('\n'));
    const result = await dbTest([file, testFile('todo-other.sql', passing(1))]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('       TODO passed: ok 4 - done already # TODO write the feature');
    expect(result.stdout).toContain('todo.sql\n  TODO passed: 4\n');
    expect(result.stdout).toContain('PASS: 2 passed, 1 skipped, 2 todo (1 passing) (2 files');
  });

  it('a bad plan, a missing plan and Bail out! fail their file, named under it', async () => {
    const result = await dbTest([
      testFile('plans/short.sql', "\\echo 1..3\nSELECT 'ok 1 - one';\nSELECT 'ok 2 - two';\n"),
      testFile('plans/none.sql', "SELECT 'ok 1 - one';\n"),
      testFile('plans/bail.sql', "SELECT 'ok 1 - one';\n\\echo 'Bail out! database is empty'\n"),
    ]);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('planned 3 tests (1..3) but 2 ran');
    expect(result.stdout).toContain('no plan (1..1)');
    expect(result.stdout).toContain('Bail out! database is empty');
    expect(result.stdout).toContain('FAIL: 4 passed, 3 files with errors (3 files');
  });

  it('an SQL error fails its file with file:line and the offending line; the TAP before it is kept', async () => {
    const file = testFile('sqlerror.sql', "\\echo 1..2\nSELECT 'ok 1 - before';\nSELECT * FROM app.nope;\nSELECT 'ok 2 - after';\n");
    const result = await dbTest(['-v', file]);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('ok 1 - before');
    expect(result.stdout).not.toContain('ok 2 - after');
    expect(result.stdout).toMatch(/^FAILED sqlerror\.sql {2}1 passed/m);
    expect(result.stdout).toContain('       sqlerror.sql:3: relation "app.nope" does not exist\n');
    expect(result.stdout).toContain('3 | SELECT * FROM app.nope;');
  });

  it('1..0 # SKIP skips a whole file, and says why', async () => {
    const result = await dbTest([testFile('skipall.sql', "\\echo '1..0 # SKIP no pgTAP here'\n")]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^ok {5}skipall\.sql {2}skipped: no pgTAP here {2}\(/m);
  });

  it('a file without TAP passes when it ran without error, and says so', async () => {
    const result = await dbTest([testFile('silent.sql', 'SELECT 1 WHERE false;\n')]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('no TAP output');
    expect(result.stdout).toContain('passed because no SQL error occurred');
  });

  it('-j must be a whole number of at least 1', async () => {
    const result = await dbTest(['-j', '0', testFile('jobs.sql', passing(1))]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('expected a whole number of at least 1');
  });

  it('-i/--inherits checks the target before running: a missing table → exit 5', async () => {
    const ok = await dbTest(['-i', 'app.item']);
    expect(ok.code, ok.stderr).toBe(0);
    const missing = await dbTest(['-i', 'app.item', '-i', 'ghost']);
    expect(missing.code).toBe(5);
    expect(missing.stderr).toContain('ghost');
    expect(missing.stdout).toBe('');
  });
});

/** Parses XML with xmldom, failing on any error or warning the parser reports. */
function parseXml(text: string): Document {
  const problems: string[] = [];
  const document = new DOMParser({ onError: (level, message) => problems.push(`${level}: ${message}`) }).parseFromString(text, 'text/xml');
  expect(problems).toEqual([]);
  return document as unknown as Document;
}

function children(element: Element | Document, name: string): Element[] {
  return Array.from((element as Element).getElementsByTagName(name) as unknown as ArrayLike<Element>);
}

describe('database test --junit', () => {
  it('writes JUnit XML an independent parser reads: a testsuite per file, a testcase per test, failures with diagnostics', async () => {
    // Inside the project: the report names files relative to it, as CI reporters link them.
    const testFile = (name: string, sql: string): string => {
      const file = path.join(project.dir, 'db', 'junit', name);
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file, sql);
      return file;
    };
    const files = [
      testFile('junit/a-pass.sql', passing(2, 'pass')),
      testFile('junit/b-fail.sql', "\\echo 1..2\nSELECT 'ok 1 - fine';\nSELECT 'not ok 2 - totals <match> & \"agree\"';\n\\echo '#     have: 1'\n\\echo '#     want: 2'\n"),
      testFile('junit/c-skip.sql', "\\echo 1..3\nSELECT 'ok 1 # SKIP no secrets';\nSELECT 'not ok 2 - later # TODO not written';\nSELECT 'ok 3 - early # TODO not written';\n"),
      testFile('junit/d-error.sql', "\\echo 1..2\nSELECT 'ok 1 - before';\nSELECT * FROM app.nope;\n"),
    ];
    const report = path.join(scratch, 'reports', 'nested', 'junit.xml');
    const result = await dbTest(['--junit', report, ...files]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('JUnit report: reports/nested/junit.xml');
    const document = parseXml(fs.readFileSync(report, 'utf8'));
    const root = document.documentElement as unknown as Element;
    expect(root.tagName).toBe('testsuites');
    expect([root.getAttribute('tests'), root.getAttribute('failures'), root.getAttribute('errors'), root.getAttribute('skipped')]).toEqual(['9', '1', '1', '2']);
    const suites = children(document, 'testsuite');
    expect(suites.map((suite) => suite.getAttribute('name'))).toEqual(['a-pass.sql', 'b-fail.sql', 'c-skip.sql', 'd-error.sql'].map((name) => `db/junit/junit/${name}`));
    expect(suites.map((suite) => suite.getAttribute('file'))).toEqual(suites.map((suite) => suite.getAttribute('name')));
    const counts = suites.map((suite) => ['tests', 'failures', 'errors', 'skipped'].map((name) => Number(suite.getAttribute(name))));
    expect(counts).toEqual([[2, 0, 0, 0], [2, 1, 0, 0], [3, 0, 0, 2], [2, 0, 1, 0]]);
    for (const suite of suites) {
      expect(children(suite, 'testcase')).toHaveLength(Number(suite.getAttribute('tests')));
      expect(Number(suite.getAttribute('time'))).toBeGreaterThanOrEqual(0);
      expect(suite.getAttribute('timestamp')).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/);
    }
    const failure = children(suites[1] as Element, 'failure')[0] as Element;
    expect(failure.getAttribute('message')).toBe('not ok 2 - totals <match> & "agree"');
    expect(failure.textContent).toBe('#     have: 1\n#     want: 2');
    expect((failure.parentNode as Element).getAttribute('name')).toBe('2 - totals <match> & "agree"');
    expect(children(suites[2] as Element, 'skipped').map((skip) => skip.getAttribute('message'))).toEqual(['no secrets', 'TODO not written']);
    const error = children(suites[3] as Element, 'error')[0] as Element;
    expect((error.parentNode as Element).getAttribute('name')).toBe('(file)');
    expect(error.getAttribute('message')).toContain('relation "app.nope" does not exist');
    expect(children(suites[0] as Element, 'system-out')[0]?.textContent).toBe(`1..2\nok 1 - pass1\nok 2 - pass2\n`);
  });
});
