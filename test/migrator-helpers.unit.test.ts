/**
 * The migrator's pure parts: argument preparation, the psql script, names and
 * timestamps of new migrations, status merging, listings, and folder discovery.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseVariables, prepareMigratorArgs } from '../src/cli/migrator-args.js';
import { listMigrationsCommand } from '../src/commands/migrator-list.js';
import { formatList, formatStatusLines } from '../src/cli/render/migrator.js';
import { AmbiguousError, MissingInputError, BadInputError } from '../src/base/errors.js';
import { formatTimestamp, nextTimestamp, normaliseMigrationName, pronounceableName } from '../src/migrations/migration-create.js';
import { readMigrationFolders, readMigrations } from '../src/migrations/migration-files.js';
import { AS_SESSION_USER, buildMigrationScript, READ_ONLY_DEFAULT, SESSION_RESET } from '../src/migrations/migration-script.js';
import { quotePsqlArgument } from '../src/pg/psql.js';
import { migrationStatuses } from '../src/migrations/migration-status.js';
import { createLogger, stripAnsi } from '../src/base/log.js';
import type { MigrationStep } from '../src/migrations/migration-plan.js';
import { stepProgress } from '../src/migrations/migrate.js';
import { makeTempDir } from './helpers/env.js';
import { writeMigration } from './helpers/migrator.js';

const temp: string[] = [];
afterAll(() => {
  for (const dir of temp) fs.rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = makeTempDir('db-tool-migrator-unit-');
  temp.push(dir);
  return dir;
}

describe('prepareMigratorArgs', () => {
  it('moves global options to the front, wherever they are', () => {
    expect(prepareMigratorArgs(['migrate', 'up', '2', '--force', '-v', 'a=1', '--dry-run'])).toEqual(['--force', '-v', 'a=1', '--dry-run', 'migrate', 'up', '2']);
    expect(prepareMigratorArgs(['migrate', 'status', '--json', '-u', 'postgresql://x@/y'])).toEqual(['-u', 'postgresql://x@/y', 'migrate', 'status', '--json']);
    expect(prepareMigratorArgs(['--db-url=postgresql://x@/y', 'list'])).toEqual(['--db-url=postgresql://x@/y', 'list']);
    expect(prepareMigratorArgs(['create', '--name', 'list'])).toEqual(['create', '--name', 'list']);
  });

  it('refuses two commands or a command word where NAME or N goes (exit 2)', () => {
    for (const argv of [['list', 'migrate'], ['migrate', 'to', 'up'], ['migrate', 'up', 'down'], ['init', 'list'], ['migrate', 'create'], ['create', 'status']]) {
      expect(() => prepareMigratorArgs(argv), argv.join(' ')).toThrow(AmbiguousError);
    }
  });

  it('leaves unknown commands to commander and wants a migrate subcommand (exit 3)', () => {
    expect(prepareMigratorArgs(['frob', 'list'])).toEqual(['frob', 'list']);
    expect(prepareMigratorArgs(['help', 'migrate'])).toEqual(['help', 'migrate']);
    expect(() => prepareMigratorArgs(['--force', 'migrate'])).toThrow(MissingInputError);
  });
});

describe('parseVariables', () => {
  it('splits at the first =, keeps the rest verbatim', () => {
    expect(parseVariables(['a=1', 'b=x=y', 'c='])).toEqual({ a: '1', b: 'x=y', c: '' });
  });

  it('refuses a missing = or a bad name (exit 1)', () => {
    for (const word of ['novalue', '=1', '1a=2', 'a-b=1']) expect(() => parseVariables([word])).toThrow(BadInputError);
  });
});

describe('buildMigrationScript', () => {
  const up = { direction: 'up' as const, name: "20240101000000-it's", file: '/m/a b/up.sql', hash: 'a'.repeat(64) };
  const down = { direction: 'down' as const, name: '20240102000000-b', file: '/m/b/down.sql', hash: 'b'.repeat(64) };

  const check = (token: string) =>
    [
      `DECLARE dbtool_check_${token} CURSOR FOR SELECT pg_catalog.int4(CASE WHEN pg_catalog.txid_current_if_assigned() IS NOT DISTINCT FROM :'dbtool_xact_${token}'::pg_catalog.int8 THEN '1' ELSE 'db-tool ${token}: the migration ended its transaction' END)`,
      `MOVE dbtool_check_${token}`,
      `CLOSE dbtool_check_${token}`,
    ].join(' \\; ');

  it('wraps each step in its own read-write transaction with migration mode, a check that it is still open, and its bookkeeping row, each from a clean session', () => {
    const script = buildMigrationScript([up, down], { vars: { who: "it's" }, token: 't1' });
    expect(script.endedToken).toBe('db-tool t1: the migration ended its transaction');
    expect(script.text.split('\n').filter(Boolean)).toEqual([
      '\\set ON_ERROR_STOP 1',
      `${READ_ONLY_DEFAULT} \\; BEGIN READ WRITE \\; SET LOCAL hectic.migration_mode = 'on' \\; SELECT pg_catalog.txid_current() AS dbtool_xact_t1 \\gset`,
      "-- 1/2: up 20240101000000-it's",
      "\\i '/m/a b/up.sql'",
      '\\set ON_ERROR_STOP 1',
      `${check('t1')} \\; ${AS_SESSION_USER} \\; INSERT INTO hectic.migration (name, hash) VALUES ('20240101000000-it''s', '${'a'.repeat(64)}') \\; COMMIT \\; BEGIN READ WRITE \\; ${SESSION_RESET} \\; ${READ_ONLY_DEFAULT} \\; SET LOCAL hectic.migration_mode = 'on' \\; SELECT pg_catalog.txid_current() AS dbtool_xact_t1 \\gset`,
      '\\o',
      "\\set who 'it''s'",
      '-- 2/2: down 20240102000000-b',
      "\\i '/m/b/down.sql'",
      '\\set ON_ERROR_STOP 1',
      `${check('t1')} \\; ${AS_SESSION_USER} \\; DELETE FROM hectic.migration WHERE name = '20240102000000-b' \\; COMMIT;`,
    ]);
  });

  it('records the transaction each step began in, in the step file, and reports each step as it begins when it can print marks', () => {
    const script = buildMigrationScript([up, down], { markText: (mark) => `__m_${mark}__`, stepFile: "/run/it's/step", token: 't2' });
    const lines = script.text.split('\n');
    expect(lines[1]).toMatch(/SELECT pg_catalog.txid_current\(\) AS dbtool_xact_t2, '__m_s0-' \|\| pg_catalog.txid_current\(\) \|\| '__' AS dbtool_mark_t2 \\gset$/);
    expect(lines[2]).toBe("s0 :dbtool_xact_t2 \\w '/run/it''s/step' \\r");
    expect(lines[3]).toBe('\\echo :dbtool_mark_t2');
    expect(lines).toContain("s1 :dbtool_xact_t2 \\w '/run/it''s/step' \\r");
    expect(lines.filter((line) => line === '\\echo :dbtool_mark_t2')).toHaveLength(2);
    // Without marks (not a terminal): the step file only.
    const quiet = buildMigrationScript([up, down], { stepFile: '/run/step', token: 't2' }).text;
    expect(quiet).not.toContain('\\echo');
    expect(quiet.split('\n').filter((line) => line.endsWith("\\w '/run/step' \\r"))).toHaveLength(2);
  });

  it('runs a no-transaction step outside any transaction, read-write, and records it in a transaction of its own afterwards', () => {
    const script = buildMigrationScript([up, down], { markText: (mark) => `__m_${mark}__`, outsideTransaction: (step) => step === down, token: 't3' });
    const lines = script.text.split('\n').filter(Boolean);
    const first = lines.findIndex((line) => line.startsWith('-- 2/2:'));
    expect(lines[first]).toBe('-- 2/2: down 20240102000000-b (no transaction)');
    // The first step's COMMIT, then the reset, outside a transaction; no BEGIN for the migration.
    expect(lines.slice(first - 3, first)).toEqual([
      `${check('t3')} \\; ${AS_SESSION_USER} \\; INSERT INTO hectic.migration (name, hash) VALUES ('20240101000000-it''s', '${'a'.repeat(64)}') \\; COMMIT \\; ${SESSION_RESET} \\; SET default_transaction_read_only = off \\; SET hectic.migration_mode = 'on';`,
      '\\echo __m_s1-0__',
      '\\o',
    ]);
    expect(lines.slice(first + 1)).toEqual([
      "\\i '/m/b/down.sql'",
      '\\set ON_ERROR_STOP 1',
      `${AS_SESSION_USER} \\; BEGIN READ WRITE \\; SET LOCAL hectic.migration_mode = 'on' \\; DELETE FROM hectic.migration WHERE name = '20240102000000-b' \\; COMMIT;`,
    ]);
  });

  it('reports the run done after its last COMMIT, once', () => {
    const script = buildMigrationScript([up, down], { done: '\\echo all done\n' });
    const lines = script.text.split('\n').filter(Boolean);
    expect(lines.filter((line) => line === '\\echo all done')).toHaveLength(1);
    expect(lines.at(-2)).toMatch(/COMMIT;$/);
    expect(lines.at(-1)).toBe('\\echo all done');
  });

  it('puts a --set value holding a newline back on one line, as psql reads its escapes', () => {
    const script = buildMigrationScript([up, down], { vars: { note: 'two\nlines' } });
    expect(script.text.split('\n')).toContain("\\set note 'two\\nlines'");
  });

  it('quotes paths for psql meta-commands', () => {
    expect(quotePsqlArgument("/a/it's/b\\c.sql")).toBe("'/a/it''s/b\\\\c.sql'");
  });
});

describe('new migrations', () => {
  it('formats UTC timestamps and always sorts after existing migrations', () => {
    const now = new Date('2024-03-04T05:06:07Z');
    expect(formatTimestamp(now)).toBe('20240304050607');
    expect(nextTimestamp([], now)).toBe('20240304050607');
    expect(nextTimestamp(['20240304050607-a'], now)).toBe('20240304050608');
    expect(nextTimestamp(['20991231235959-future', 'README.md'], now)).toBe('21000101000000');
  });

  it('makes pronounceable default names and checks given ones', () => {
    expect(pronounceableName()).toMatch(/^([bdfgklmnprstvz][aeiou]){3}$/);
    expect(normaliseMigrationName(' add  users ')).toBe('add-users');
    for (const bad of ['', '../x', 'a/b', '-x', '.hidden']) expect(() => normaliseMigrationName(bad)).toThrow(BadInputError);
  });
});

describe('status', () => {
  it('merges disk and history into applied, changed, pending and missing', () => {
    const at = new Date('2024-01-01T00:00:00Z');
    const entries = migrationStatuses(
      [{ name: '1-a', hash: 'a' }, { name: '2-b', hash: 'b' }, { name: '4-d', hash: 'd' }],
      [{ name: '1-a', hash: 'A', appliedAt: at }, { name: '2-b', hash: 'x', appliedAt: at }, { name: '3-c', hash: 'c', appliedAt: at }],
    );
    expect(entries.map((entry) => [entry.name, entry.state])).toEqual([['1-a', 'applied'], ['2-b', 'changed'], ['3-c', 'missing'], ['4-d', 'pending']]);
    expect(formatStatusLines(entries)).toBe(
      '1-a  applied  2024-01-01T00:00:00.000Z\n2-b  changed  2024-01-01T00:00:00.000Z\n3-c  missing  2024-01-01T00:00:00.000Z\n4-d  pending  -\n',
    );
  });

  it('aligns the columns, and marks baseline rows and pending ones that sort before applied ones', () => {
    const at = new Date('2024-01-01T00:00:00Z');
    const entries = migrationStatuses(
      [{ name: '1-a', hash: 'a' }, { name: '2-longer', hash: 'b' }, { name: '3-c', hash: 'c' }, { name: '4-dd', hash: 'd' }],
      [{ name: '1-a', hash: 'a', appliedAt: at, baseline: true }, { name: '3-c', hash: 'c', appliedAt: at }],
    );
    expect(entries.find((entry) => entry.name === '2-longer')).toEqual(expect.objectContaining({ state: 'pending', outOfOrder: true }));
    expect(entries.find((entry) => entry.name === '4-dd')).not.toHaveProperty('outOfOrder');
    expect(formatStatusLines(entries)).toBe(
      [
        '1-a       applied  2024-01-01T00:00:00.000Z  baseline',
        '2-longer  pending  -                         out of order',
        '3-c       applied  2024-01-01T00:00:00.000Z',
        '4-dd      pending  -',
        '',
      ].join('\n'),
    );
  });
});

describe('migration folders', () => {
  it('finds both layouts in name order, skipping hidden entries and plain files', () => {
    const dir = tempDir();
    writeMigration(dir, '20240102000000-nested', { 'up/entrypoint.sql': '\\ir a.sql\n', 'up/a.sql': 'SELECT 1;\n', 'down/entrypoint.sql': 'SELECT 2;\n' });
    writeMigration(dir, '20240101000000-flat', { 'up.sql': 'SELECT 1;\n', 'down.sql': 'SELECT 2;\n' });
    fs.writeFileSync(path.join(dir, 'README.md'), 'notes');
    fs.mkdirSync(path.join(dir, '.git'));
    const migrations = readMigrations(dir);
    expect(migrations.map((m) => m.name)).toEqual(['20240101000000-flat', '20240102000000-nested']);
    expect(migrations[1]?.upFile).toBe(path.join(dir, '20240102000000-nested', 'up', 'entrypoint.sql'));
    const entrypoint = fs.readFileSync(path.join(dir, '20240102000000-nested', 'up', 'entrypoint.sql'));
    expect(migrations[1]?.hash).toBe(createHash('sha256').update(entrypoint).digest('hex'));
    expect(migrations[0]?.hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('refuses bad names (1), a migration file instead of a folder (1), both layouts (2), a missing up file (1)', () => {
    const badName = tempDir();
    fs.mkdirSync(path.join(badName, '2024-01-01-x'));
    expect(() => readMigrationFolders(badName)).toThrow(BadInputError);
    const file = tempDir();
    fs.writeFileSync(path.join(file, '20240101000000-x.sql'), 'SELECT 1;');
    expect(() => readMigrationFolders(file)).toThrow(/not a file/);
    const both = tempDir();
    writeMigration(both, '20240101000000-x', { 'down.sql': '', 'down/entrypoint.sql': '', 'up.sql': '' });
    expect(() => readMigrationFolders(both)).toThrow(AmbiguousError);
    const noUp = tempDir();
    writeMigration(noUp, '20240101000000-x', { 'down.sql': '' });
    expect(readMigrationFolders(noUp)).toHaveLength(1);
    expect(() => readMigrations(noUp)).toThrow(/missing up\.sql/);
  });

  it('lists missing files after the layout in use', () => {
    const dir = tempDir();
    writeMigration(dir, '20240101000000-a', { 'up.sql': '' });
    writeMigration(dir, '20240102000000-b', { 'up/entrypoint.sql': '' });
    writeMigration(dir, '20240103000000-c', { 'down/entrypoint.sql': '' });
    writeMigration(dir, '20240104000000-d', { 'up.sql': '', 'down.sql': '' });
    expect(formatList(listMigrationsCommand(dir))).toBe(
      '20240101000000-a: missing down.sql\n20240102000000-b: missing down/entrypoint.sql\n20240103000000-c: missing up/entrypoint.sql\n20240104000000-d\n',
    );
    expect(formatList(listMigrationsCommand(dir), true)).toBe('20240101000000-a\n20240102000000-b\n20240103000000-c\n20240104000000-d\n');
  });
});

describe('migration progress on a terminal', () => {
  it('shows one migration live at a time: the last one\'s line is printed before the next one\'s live line', async () => {
    // Both live at once even for a moment, a terminal read in between showed two live lines
    // (the tmux test of terminal.test.ts failed so on a loaded machine).
    const writes: string[] = [];
    const log = createLogger({ level: 'info', noColor: true, sink: { isTTY: true, write: (text: string) => writes.push(stripAnsi(text)) } });
    const steps = [
      { name: '20240101000000-a', direction: 'up' },
      { name: '20240102000000-b', direction: 'up' },
    ] as MigrationStep[];
    const progress = stepProgress(log, steps);
    progress?.start(0);
    await new Promise((resolve) => setImmediate(resolve));
    progress?.start(1);
    await progress?.end(true);
    const finishedA = writes.findIndex((text) => text.includes('✓ apply 20240101000000-a (1/2)'));
    const firstB = writes.findIndex((text) => text.includes('apply 20240102000000-b (2/2)'));
    expect(finishedA).toBeGreaterThanOrEqual(0);
    expect(firstB).toBeGreaterThan(finishedA);
    expect(writes.some((text) => text.includes('✓ apply 20240102000000-b (2/2)'))).toBe(true);
  });
});
