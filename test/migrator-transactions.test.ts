/**
 * Migrations and the transaction they are given (SPEC §17 migrator): one that ends it
 * itself (COMMIT, ROLLBACK) fails with exit 4 saying what was committed, and is never
 * recorded; `-- db-tool: no-transaction` runs one outside a transaction, recorded once
 * it succeeded. Both ways psql reads a file are covered: inline (plain SQL) and `\i`
 * (a file with a psql command).
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBin, type CliResult } from './helpers/cli.js';
import { startTestCluster, type TestCluster } from './helpers/cluster.js';
import { MigratorWorkspace, appliedNames, relationExists, tableMigration, writeMigration } from './helpers/migrator.js';

let cluster: TestCluster;
let work: MigratorWorkspace;

beforeAll(async () => {
  cluster = await startTestCluster();
  work = await MigratorWorkspace.open(cluster, 'tx');
});

afterAll(async () => {
  await work?.close();
  await cluster?.stop();
});

const TABLE = (name: string) => `CREATE TABLE public.${name} (id int) INHERITS (hectic.created_at);`;
const FIRST = '20240101000000-first';
const SECOND = '20240102000000-second';
const THIRD = '20240103000000-third';

async function setup() {
  const db = await work.database();
  const dir = work.folder();
  const run = (...args: string[]): Promise<CliResult> => runBin('migrator', ['-u', db.url, '-d', dir, ...args]);
  return { ...db, dir, run };
}

/** A psql command first makes psql read the file through `\i`; without one it is sent inline. */
const PATHS = [
  { label: 'inline', prefix: '' },
  { label: '\\i', prefix: "\\echo 'read through \\\\i'\n" },
];

describe('a migration that ends its own transaction', () => {
  for (const { label, prefix } of PATHS) {
    it(`ROLLBACK at its end: exit 4, its work undone, nothing recorded, the migration before it kept (${label})`, async () => {
      const { client, dir, run } = await setup();
      tableMigration(dir, FIRST, 'first');
      writeMigration(dir, SECOND, { 'up.sql': `${prefix}${TABLE('c')}\nrollback;\n`, 'down.sql': 'DROP TABLE public.c;\n' });
      const result = await run('migrate', 'up', 'all');
      expect(result.code, result.stderr).toBe(4);
      expect(result.stderr).toContain(`migration ${SECOND} (up) ended its own transaction (ROLLBACK): its work was undone; nothing recorded`);
      expect(result.stderr).toContain('-- db-tool: no-transaction');
      expect(result.stderr).not.toMatch(/invalid input syntax|db-tool [0-9a-f]+:/);
      expect(await relationExists(client, 'public.c')).toBe(false);
      expect(await appliedNames(client)).toEqual([FIRST]);
    });

    it(`COMMIT at its end: exit 4, its work stays and is said to, nothing recorded (${label})`, async () => {
      const { client, dir, run } = await setup();
      writeMigration(dir, FIRST, { 'up.sql': `${prefix}${TABLE('kept')}\ncommit;\n`, 'down.sql': 'DROP TABLE public.kept;\n' });
      tableMigration(dir, SECOND, 'never');
      const result = await run('migrate', 'up', 'all');
      expect(result.code, result.stderr).toBe(4);
      expect(result.stderr).toContain(`migration ${FIRST} (up) committed its own transaction: its work up to the COMMIT stays; nothing recorded`);
      expect(await relationExists(client, 'public.kept')).toBe(true);
      expect(await relationExists(client, 'public.never')).toBe(false);
      expect(await appliedNames(client)).toEqual([]);
    });
  }

  it('COMMIT, more work, then an error: only the work up to the COMMIT stays, and the message says so (exit 4)', async () => {
    const { client, dir, run } = await setup();
    writeMigration(dir, FIRST, { 'up.sql': `${TABLE('h1')} commit; ${TABLE('h2')} select 1/0;\n`, 'down.sql': 'DROP TABLE public.h1;\n' });
    const result = await run('migrate', 'up');
    expect(result.code, result.stderr).toBe(4);
    expect(result.stderr).toContain(`migration ${FIRST} (up) committed its own transaction, then failed:`);
    expect(result.stderr).toContain('its work up to the COMMIT stays');
    expect(result.stderr).not.toContain('failed and was rolled back');
    expect(await relationExists(client, 'public.h1')).toBe(true);
    expect(await relationExists(client, 'public.h2')).toBe(false);
    expect(await appliedNames(client)).toEqual([]);
  });

  it('COMMIT then BEGIN at its end (a new transaction, not the one it was given) is caught too', async () => {
    const { client, dir, run } = await setup();
    writeMigration(dir, FIRST, { 'up.sql': `${TABLE('t')}\ncommit;\nbegin;\nselect 1;\n`, 'down.sql': 'DROP TABLE public.t;\n' });
    const result = await run('migrate', 'up');
    expect(result.code, result.stderr).toBe(4);
    expect(result.stderr).toContain('committed its own transaction');
    expect(await appliedNames(client)).toEqual([]);
  });

  it('a savepoint rolled back inside the migration is fine: it is still the same transaction', async () => {
    const { client, dir, run } = await setup();
    writeMigration(dir, FIRST, {
      'up.sql': `${TABLE('outer_t')}\nsavepoint s;\n${TABLE('inner_t')}\nrollback to savepoint s;\nrelease savepoint s;\nRESET ALL;\n`,
      'down.sql': 'DROP TABLE public.outer_t;\n',
    });
    const result = await run('migrate', 'up');
    expect(result.code, result.stderr).toBe(0);
    expect(await relationExists(client, 'public.outer_t')).toBe(true);
    expect(await relationExists(client, 'public.inner_t')).toBe(false);
    expect(await appliedNames(client)).toEqual([FIRST]);
  });

  it('a down migration that rolls back its transaction: exit 4, still recorded as applied, its table still there', async () => {
    const { client, dir, run } = await setup();
    writeMigration(dir, FIRST, { 'up.sql': `${TABLE('d')}\n`, 'down.sql': 'DROP TABLE public.d;\nROLLBACK;\n' });
    expect((await run('migrate', 'up')).code).toBe(0);
    const result = await run('migrate', 'down');
    expect(result.code, result.stderr).toBe(4);
    expect(result.stderr).toContain(`migration ${FIRST} (down) ended its own transaction (ROLLBACK)`);
    expect(await relationExists(client, 'public.d')).toBe(true);
    expect(await appliedNames(client)).toEqual([FIRST]);
  });
});

describe('-- db-tool: no-transaction', () => {
  it('runs CREATE INDEX CONCURRENTLY outside a transaction, recorded once it succeeded, between ordinary migrations', async () => {
    const { client, dir, run } = await setup();
    tableMigration(dir, FIRST, 'items');
    writeMigration(dir, SECOND, {
      'up.sql': '-- db-tool: no-transaction\nCREATE INDEX CONCURRENTLY items_id ON public.items (id);\n',
      'down.sql': '-- db-tool: no-transaction\nDROP INDEX CONCURRENTLY public.items_id;\n',
    });
    // The one after it is in a transaction again: its own ROLLBACK is caught.
    writeMigration(dir, THIRD, { 'up.sql': `${TABLE('after')}\nrollback;\n`, 'down.sql': 'DROP TABLE public.after;\n' });
    const result = await run('migrate', 'up', 'all');
    expect(result.code, result.stderr).toBe(4);
    expect(result.stderr).toContain(`migration ${THIRD} (up) ended its own transaction`);
    expect(await relationExists(client, 'public.items_id')).toBe(true);
    expect(await appliedNames(client)).toEqual([FIRST, SECOND]);

    const down = await run('migrate', 'down');
    expect(down.code, down.stderr).toBe(0);
    expect(await relationExists(client, 'public.items_id')).toBe(false);
    expect(await appliedNames(client)).toEqual([FIRST]);
  });

  it('the same statement without the marker fails in the transaction, and nothing is recorded', async () => {
    const { client, dir, run } = await setup();
    tableMigration(dir, FIRST, 'items');
    writeMigration(dir, SECOND, { 'up.sql': 'CREATE INDEX CONCURRENTLY items_id ON public.items (id);\n', 'down.sql': 'DROP INDEX public.items_id;\n' });
    const result = await run('migrate', 'up', 'all');
    expect(result.code).toBe(4);
    expect(result.stderr).toContain(`migration ${SECOND} (up) failed and was rolled back`);
    expect(await appliedNames(client)).toEqual([FIRST]);
  });

  it('a failing no-transaction migration: exit 4, its statements before the error stay (said so), nothing recorded', async () => {
    const { client, dir, run } = await setup();
    writeMigration(dir, FIRST, {
      'up.sql': `-- DB-TOOL: No-Transaction\n${TABLE('part')}\nselect 1/0;\n${TABLE('rest')}\n`,
      'down.sql': 'DROP TABLE public.part;\n',
    });
    const result = await run('migrate', 'up');
    expect(result.code).toBe(4);
    expect(result.stderr).toContain(`migration ${FIRST} (up, no transaction) failed:`);
    expect(result.stderr).toContain('its statements before the error stay');
    expect(await relationExists(client, 'public.part')).toBe(true);
    expect(await relationExists(client, 'public.rest')).toBe(false);
    expect(await appliedNames(client)).toEqual([]);
  });

  it('only on the first line: further down it is an ordinary comment', async () => {
    const { client, dir, run } = await setup();
    tableMigration(dir, FIRST, 'items');
    writeMigration(dir, SECOND, {
      'up.sql': 'SELECT 1;\n-- db-tool: no-transaction\nCREATE INDEX CONCURRENTLY items_id ON public.items (id);\n',
      'down.sql': 'DROP INDEX public.items_id;\n',
    });
    const result = await run('migrate', 'up', 'all');
    expect(result.code).toBe(4);
    expect(await appliedNames(client)).toEqual([FIRST]);
  });
});

describe('the run scratch folder (the step file psql writes per migration)', () => {
  it('is removed after the run, and a killed run’s folder is cleared by the next run', async () => {
    const parent = fs.existsSync('/dev/shm') ? '/dev/shm' : os.tmpdir();
    // A pid that is surely gone: a process that has ended.
    const gone = spawnSync('true').pid;
    const leftover = path.join(parent, `db-tool-migrate-${gone}-test`);
    fs.mkdirSync(leftover, { recursive: true });
    fs.writeFileSync(path.join(leftover, 'step'), 's0 1\n');
    try {
      const { dir, run } = await setup();
      tableMigration(dir, FIRST, 'first');
      const result = await run('migrate', 'up');
      expect(result.code, result.stderr).toBe(0);
      expect(fs.existsSync(leftover)).toBe(false);
      // Its own folder is gone too: no folder of a run that has ended is left.
      const ended = fs.readdirSync(parent).filter((entry) => {
        const pid = Number(/^db-tool-migrate-(\d+)-/.exec(entry)?.[1]);
        return pid > 0 && spawnSync('kill', ['-0', String(pid)]).status !== 0;
      });
      expect(ended).toEqual([]);
    } finally {
      fs.rmSync(leftover, { recursive: true, force: true });
    }
  });
});
