/**
 * Each migration starts from a clean session (SPEC §7): `migrate up all` through one
 * psql session behaves exactly like repeated `migrate up 1`, whatever a migration sets
 * for its session — pg_dump's preamble (search_path emptied, GUCs), the inheritance
 * exemption, a role, temp tables, prepared statements, a `\o` redirection, a --set
 * variable it overwrote.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/base/config.js';
import { openPsqlSession } from '../src/pg/psql-session.js';
import { runBin } from './helpers/cli.js';
import { startTestCluster, type TestCluster } from './helpers/cluster.js';
import { baseEnv } from './helpers/env.js';
import { MigratorWorkspace, appliedNames, relationExists, tableMigration, writeMigration } from './helpers/migrator.js';
import { waitFor } from './helpers/project.js';

let cluster: TestCluster;
let work: MigratorWorkspace;

beforeAll(async () => {
  cluster = await startTestCluster();
  work = await MigratorWorkspace.open(cluster, 'session');
});

afterAll(async () => {
  await work?.close();
  await cluster?.stop();
});

const DUMP_LIKE = '20240101000000-dump-like';
const UNQUALIFIED = '20240102000000-unqualified';
const NOT_EXEMPT = '20240103000000-not-exempt';

/** Three migrations: the first leaves its session dirty, the next two must not notice. */
function writeMigrations(dir: string): void {
  writeMigration(dir, DUMP_LIKE, {
    'up.sql': [
      // What every pg_dump starts with.
      'SET statement_timeout = 0;',
      'SET lock_timeout = 0;',
      "SET client_encoding = 'UTF8';",
      'SET standard_conforming_strings = on;',
      "SELECT pg_catalog.set_config('search_path', '', false);",
      'SET check_function_bodies = false;',
      'SET client_min_messages = warning;',
      // A project exempting itself in one file only.
      "SET hectic.inheritance_extra_excluded_schemas = 'public';",
      'CREATE TABLE public.exempt (id integer);',
      'CREATE TEMP TABLE scratch (x integer);',
      'PREPARE probe AS SELECT 1;',
      'SET ROLE pg_read_all_settings;',
      'RESET ROLE;',
      'SET SESSION AUTHORIZATION DEFAULT;',
      'SET ROLE pg_monitor;',
      "\\set who 'overwritten'",
      '\\o /dev/null',
      '',
    ].join('\n'),
    'down.sql': 'DROP TABLE public.exempt;\n',
  });
  writeMigration(dir, UNQUALIFIED, {
    'up.sql': [
      // Unqualified: needs the default search_path back; as the session user, not pg_monitor.
      "CREATE TABLE marker (id integer, who text DEFAULT :'who', owner name DEFAULT current_user) INHERITS (hectic.created_at);",
      'INSERT INTO marker (id) VALUES (1);',
      'CREATE TEMP TABLE scratch (x integer);',
      'PREPARE probe AS SELECT 2;',
      "SELECT 'output-of-the-second-migration' AS seen;",
      '',
    ].join('\n'),
    'down.sql': 'DROP TABLE marker;\n',
  });
  writeMigration(dir, NOT_EXEMPT, {
    // The exemption of the first migration must not reach this one.
    'up.sql': 'CREATE TABLE public.not_exempt (id integer);\n',
    'down.sql': 'DROP TABLE public.not_exempt;\n',
  });
}

async function prepared() {
  const db = await work.database();
  const dir = work.folder();
  writeMigrations(dir);
  const run = (...args: string[]) => runBin('migrator', ['-u', db.url, '-d', dir, '--set', "who=it's me", ...args]);
  return { ...db, run };
}

describe('a clean session per migration', () => {
  it('migrate up all behaves like repeated up 1', async () => {
    const all = await prepared();
    const allRun = await all.run('migrate', 'up', 'all');
    expect(allRun.code, allRun.stderr).toBe(4);
    expect(allRun.stderr).toContain(NOT_EXEMPT);
    expect(allRun.stderr).toContain('must inherit hectic.created_at');
    expect(allRun.stdout).toContain('output-of-the-second-migration');

    const single = await prepared();
    const steps = [await single.run('migrate', 'up', '1'), await single.run('migrate', 'up', '1'), await single.run('migrate', 'up', '1')];
    expect(steps.map((step) => step.code)).toEqual([0, 0, 4]);
    expect(steps[2]?.stderr).toContain('must inherit hectic.created_at');

    for (const db of [all, single]) {
      expect(await appliedNames(db.client)).toEqual([DUMP_LIKE, UNQUALIFIED]);
      const { rows } = await db.client.query<{ who: string; owner: string; schema: string }>(
        "SELECT who, owner::text, (SELECT relnamespace::regnamespace::text FROM pg_class WHERE oid = 'public.marker'::regclass) AS schema FROM public.marker",
      );
      expect(rows).toEqual([{ who: "it's me", owner: cluster.env.POSTGRESQL_USER, schema: 'public' }]);
    }
  });
});

/**
 * A run has two connections (src/migrations/migration-session.ts): psql runs the
 * migrations, reading each file with `\i`; a pg client asks the migrator's own questions
 * (lock, bundle, history) and holds the lock. What the migrations print must come through
 * untouched, and a server that is not there must give one line.
 */
describe('the run\'s connections: psql for the migrations, pg for the tool\'s own questions', () => {
  it("passes the migrations' own output through as psql printed it, and nothing of ours", async () => {
    const { url } = await work.database();
    const dir = work.folder();
    writeMigration(dir, '20240101000000-prints', {
      'up.sql': "\\echo first line\nSELECT 42 AS answer;\n\\echo -n 'no newline at the end'\n",
      'down.sql': '',
    });
    writeMigration(dir, '20240102000000-prints-more', { 'up.sql': "\\qecho second migration\n", 'down.sql': '' });
    const result = await runBin('migrator', ['-u', url, '-d', dir, 'migrate', 'up', 'all'], { env: { HECTIC_LOG: 'warn' } });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toBe('first line\n answer \n--------\n     42\n(1 row)\n\nno newline at the endsecond migration\n');
  });

  it('gives a migration\'s output, messages and errors as psql gives them, naming its file and line', async () => {
    const { url, client } = await work.database();
    const dir = work.folder();
    writeMigration(dir, '20240101000000-dirty', {
      // Leaves its session dirty; the next migration must not notice.
      'up.sql': "SET search_path = '';\nCREATE TEMP TABLE scratch (x integer);\nSET ROLE pg_monitor;\nSELECT 'inline-output' AS seen; -- its last statement\n-- the end\n",
      'down.sql': '',
    });
    writeMigration(dir, '20240102000000-notice', {
      'up.sql': "CREATE TEMP TABLE scratch (x integer);\nCREATE TABLE t_inline (id integer) INHERITS (hectic.created_at);\nDO $$ BEGIN RAISE NOTICE 'hello from %', 'two'; END $$;",
      'down.sql': '',
    });
    writeMigration(dir, '20240103000000-fails', { 'up.sql': 'CREATE TABLE t_fails (id integer) INHERITS (hectic.created_at);\n\nSELECT 1 / 0 AS boom;\n-- after\n', 'down.sql': '' });
    const result = await runBin('migrator', ['-u', url, '-d', dir, 'migrate', 'up', 'all'], { env: { HECTIC_LOG: 'info' } });
    expect(result.code, result.stderr).toBe(4);
    expect(result.stdout).toBe('     seen      \n---------------\n inline-output\n(1 row)\n\n');
    expect(result.stderr).toContain(`${path.join(dir, '20240102000000-notice', 'up.sql')}:3: NOTICE:  hello from two`);
    expect(result.stderr).toMatch(/migration 20240103000000-fails \(up\) failed and was rolled back: .*20240103000000-fails\/up\.sql:3: division by zero; the 2 migrations before it stay done/);
    expect(result.stderr).toContain('3 | SELECT 1 / 0 AS boom;');
    expect(result.stderr).not.toContain('<stdin>');
    expect(await appliedNames(client)).toEqual(['20240101000000-dirty', '20240102000000-notice']);
  });

  it('reads the marks a script prints, in order, as they come, and passes everything else on untouched', async () => {
    const { url } = await work.database();
    const psql = openPsqlSession(loadConfig(baseEnv()), { url, output: 'pipe' });
    const heard: string[] = [];
    psql.onMark((mark) => heard.push(mark));
    const script = [`\\echo -n 'no newline, then'\n${psql.markLine('s0-1')}`, "SELECT 'between' AS seen;\n", psql.markLine('done'), "\\echo 'last words'\n"].join('');
    const result = await psql.finish(script);
    expect(result.code, result.stderr).toBe(0);
    expect(result.marks).toEqual(['s0-1', 'done']);
    expect(heard).toEqual(['s0-1', 'done']);
    expect(result.stdout).toBe('no newline, then  seen   \n---------\n between\n(1 row)\n\nlast words\n');
  });

  it('holds the migrator lock on a connection of its own: a migration releasing its advisory locks cannot release it', async () => {
    const { url, client } = await work.database();
    const dir = work.folder();
    const heldElsewhere = [
      'SELECT count(*) AS held_elsewhere FROM pg_catalog.pg_locks',
      "WHERE locktype = 'advisory' AND granted AND objsubid = 1 AND pid <> pg_catalog.pg_backend_pid()",
      '  AND classid::bigint * 4294967296 + objid::bigint = 7522528104227761511;',
    ].join('\n');
    writeMigration(dir, '20240101000000-unlocks', { 'up.sql': `SELECT pg_catalog.pg_advisory_unlock_all();\n${heldElsewhere}\n`, 'down.sql': '' });
    const result = await runBin('migrator', ['-u', url, '-d', dir, 'migrate', 'up'], { env: { HECTIC_LOG: 'warn' } });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain(' held_elsewhere \n----------------\n              1\n(1 row)');
    expect(await appliedNames(client)).toEqual(['20240101000000-unlocks']);
    // Released once the run is over.
    const { rows } = await client.query("SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory'");
    expect(rows[0].n).toBe(0);
  });

  it('reports a failed migration that ended the run\'s other sessions as any failure: exit 4, file and line, nothing recorded', async () => {
    const { url, client } = await work.database();
    const dir = work.folder();
    writeMigration(dir, '20240101000000-terminates', {
      'up.sql': [
        'CREATE TABLE t_terminates (id integer) INHERITS (hectic.created_at);',
        "SELECT count(pg_catalog.pg_terminate_backend(pid)) >= 0 AS ended FROM pg_catalog.pg_stat_activity WHERE datname = current_database() AND pid <> pg_catalog.pg_backend_pid() AND application_name <> 'keep';",
        'SELECT 1 / 0;',
        '',
      ].join('\n'),
      'down.sql': '',
    });
    await client.query("SET application_name = 'keep'");
    const result = await runBin('migrator', ['-u', url, '-d', dir, 'migrate', 'up'], { env: { HECTIC_LOG: 'warn' } });
    expect(result.code, result.stderr).toBe(4);
    expect(result.stderr).toMatch(/migration 20240101000000-terminates \(up\) failed and was rolled back: .*up\.sql:3: division by zero/);
    expect(await appliedNames(client)).toEqual([]);
    expect(await relationExists(client, 'public.t_terminates')).toBe(false);
  });

  it('waits for another run that holds the lock, saying so once', async () => {
    const { url, client } = await work.database();
    const dir = work.folder();
    tableMigration(dir, '20240101000000-t', 't_locked');
    await client.query('SELECT pg_advisory_lock(7522528104227761511)');
    const running = runBin('migrator', ['-u', url, '-d', dir, 'migrate', 'up'], {});
    // The run is waiting once its own advisory lock request is queued behind ours (however loaded the machine).
    const waiting = async () => Number((await client.query("SELECT count(*) AS n FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())")).rows[0].n);
    await waitFor(async () => (await waiting()) > 0, 90_000, 'the migrator to wait for the lock');
    expect(await appliedNames(client)).toEqual([]);
    await client.query('SELECT pg_advisory_unlock(7522528104227761511)');
    const result = await running;
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr.match(/another migrator run holds the lock/g)).toHaveLength(1);
    expect(await appliedNames(client)).toEqual(['20240101000000-t']);
  });

  it('says it cannot connect, in one line, when the server is not there', async () => {
    const dir = work.folder();
    tableMigration(dir, '20240101000000-t', 't_nowhere');
    const url = `postgresql://postgres@/testdb?host=${path.join(work.root, 'no-server')}&port=5432`;
    const result = await runBin('migrator', ['-u', url, '-d', dir, 'migrate', 'up'], {});
    expect(result.code).toBe(1);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(/^error: cannot connect to postgresql:\/\/postgres@\/testdb\?host=.*: no server socket at .*no-server\/\.s\.PGSQL\.5432 \(is the server running\?\)$/m);
  });
});

