/** The data and report side of `database diff` without a database, and user table names. */
import { Chalk } from 'chalk';
import { describe, expect, it } from 'vitest';
import { formatRow, rowsMissingFrom, type TableDataComparison } from '../src/diff/compare-data.js';
import { compareSchemas } from '../src/diff/compare-schema.js';
import { colorize, formatTextReport, IMMUTABLE_SECTION, toJsonReport, type DiffResult } from '../src/diff/report.js';
import { foldersToSkip } from '../src/backup/backup-files.js';
import { restoredCopySettings, staleDiffRuns } from '../src/diff/run-diff.js';
import type { SchemaObject } from '../src/diff/schema-dump.js';
import { assertTableNames, isTableName, splitTableList } from '../src/pg/table-names.js';

function object(key: string, sql: string): SchemaObject {
  const [type = '', qualified = ''] = key.split(' ');
  const [schema = '', name = ''] = qualified.split('.');
  return { key, type, schema, name, sql };
}

function table(overrides: Partial<TableDataComparison>): TableDataComparison {
  return {
    table: 'public.currency',
    reasons: ['immutable'],
    status: 'identical',
    columns: ['code', 'name'],
    ignoredColumns: ['created_at'],
    columnsOnlyInDb1: [],
    columnsOnlyInDb2: [],
    orderBy: 'primary key',
    rowCountDb1: 2,
    rowCountDb2: 2,
    rowsOnlyInDb1: [],
    rowsOnlyInDb2: [],
    db1Rows: [['EUR', 'Euro'], ['USD', 'US Dollar']],
    db2Rows: [['EUR', 'Euro'], ['USD', 'US Dollar']],
    ...overrides,
  };
}

function result(overrides: Partial<DiffResult>): DiffResult {
  return {
    identical: false,
    backup: '/p/focus/postgresql-backup',
    migrationsApplied: ['20240201000000-prices'],
    entrypoint: '/p/db/src/entrypoint.sql',
    mock: false,
    schema: compareSchemas([], []),
    data: [],
    ...overrides,
  };
}

describe('rows', () => {
  it('formats a row as COPY text', () => {
    expect(formatRow(['a\tb', null, 'line\nbreak', 'back\\slash'])).toBe('a\\tb\t\\N\tline\\nbreak\tback\\\\slash');
  });

  it('finds rows missing on the other side, respecting duplicates and ignoring order', () => {
    expect(rowsMissingFrom([['1'], ['2'], ['2']], [['2'], ['1']])).toEqual([['2']]);
    expect(rowsMissingFrom([['1'], ['2']], [['2'], ['1']])).toEqual([]);
    // NULL prints as \N, the text '\N' as \\N: they never match.
    expect(rowsMissingFrom([[null]], [['\\N']])).toEqual([[null]]);
  });
});

describe('table names', () => {
  it.each(['users', 'public.users', '"My Table"', 'app."Order"', '_x1$', 'café'])('accepts %s', (name) => {
    expect(isTableName(name)).toBe(true);
  });

  it.each(['', 'a b', 'a;b', 'users*', 'a.b.c', '1abc', '"unterminated', "x'y", '$(id)', '-t'])('refuses %s', (name) => {
    expect(isTableName(name)).toBe(false);
  });

  it('splits lists outside quotes', () => {
    expect(splitTableList('a, public.b ,,"x,y"', ',')).toEqual(['a', 'public.b', '"x,y"']);
    expect(splitTableList(' a  "My Table"\tb ', ' \t')).toEqual(['a', '"My Table"', 'b']);
  });

  it('names the bad entry', () => {
    expect(() => assertTableNames(['ok', 'not ok'], '--tables')).toThrow(/--tables: 'not ok' is not a table name/);
  });
});

describe('report', () => {
  it('says so when nothing differs', () => {
    const text = formatTextReport(result({ identical: true, data: [table({})] }));
    expect(text).toMatch(/^database diff: no differences\n/);
    expect(text).toContain('1 migration applied');
    expect(text).not.toContain('---');
  });

  it('has a summary, then unified diffs per object, then the immutable data section', () => {
    const schema = compareSchemas(
      [object('TABLE public.t', 'CREATE TABLE t (\n    id integer\n);'), object('INDEX public.i', 'CREATE INDEX i ON t (id);')],
      [object('TABLE public.t', 'CREATE TABLE t (\n    id integer,\n    price integer\n);'), object('VIEW public.v', 'CREATE VIEW v AS SELECT 1;')],
    );
    const data = [
      table({
        status: 'different',
        rowsOnlyInDb1: [['EUR', 'Euro']],
        rowsOnlyInDb2: [['EUR', 'Euro!']],
        db2Rows: [['EUR', 'Euro!'], ['USD', 'US Dollar']],
      }),
    ];
    const text = formatTextReport(result({ schema, data }));
    const summary = text.indexOf('Summary');
    const schemaSection = text.indexOf('--- SCHEMA ---');
    const dataSection = text.indexOf(IMMUTABLE_SECTION);
    expect(summary).toBeGreaterThan(0);
    expect(schemaSection).toBeGreaterThan(summary);
    expect(dataSection).toBeGreaterThan(schemaSection);
    expect(text).toContain('objects only in DB1:    1');
    expect(text).toContain('objects only in DB2:    1');
    expect(text).toContain('objects changed:        1');
    expect(text).toContain('data tables differing:  1 of 1');
    expect(text).toContain('--- DB1: TABLE public.t\n+++ DB2: TABLE public.t\n@@');
    expect(text).toContain('-    id integer\n+    id integer,\n+    price integer');
    expect(text).toContain('-CREATE INDEX i ON t (id);');
    expect(text).toContain('+CREATE VIEW v AS SELECT 1;');
    expect(text).toContain(' code\tname\n-EUR\tEuro\n+EUR\tEuro!\n USD\tUS Dollar');
    expect(text).toContain('public.currency: 1 row only in DB1, 1 row only in DB2');
    expect(text).not.toContain(String.fromCharCode(27));
  });

  it('colours only when asked', () => {
    const color = new Chalk({ level: 1 });
    const coloured = colorize('--- DB1: x\n+++ DB2: x\n@@ -1 +1 @@\n-a\n+b\n--- removed comment', color);
    expect(coloured).toContain(color.red('-a'));
    expect(coloured).toContain(color.green('+b'));
    expect(coloured).toContain(color.bold('--- DB1: x'));
    expect(coloured).toContain(color.red('--- removed comment'));
  });

  it('has a documented JSON shape', () => {
    const schema = compareSchemas([object('TABLE public.t', 'a')], [object('TABLE public.t', 'b')]);
    const json = toJsonReport(result({ schema, data: [table({ status: 'different', rowsOnlyInDb1: [['EUR', null]] })] })) as Record<string, unknown>;
    expect(Object.keys(json)).toEqual(['identical', 'db1', 'db2', 'summary', 'schema', 'data']);
    expect(json.summary).toEqual({ onlyInDb1: 0, onlyInDb2: 0, changed: 1, identicalObjects: 0, dataTablesCompared: 1, dataTablesDiffering: 1 });
    const changed = (json.schema as { changed: Array<Record<string, unknown>> }).changed[0];
    expect(changed).toMatchObject({ key: 'TABLE public.t', type: 'TABLE', db1: 'a', db2: 'b' });
    expect(changed?.diff).toContain('-a\n+b');
    const data = (json.data as Array<Record<string, unknown>>)[0];
    expect(data).toMatchObject({ table: 'public.currency', status: 'different', rowsOnlyInDb1: [{ code: 'EUR', name: null }] });
  });
});

describe('run folder helpers', () => {
  it('keeps a restored copy private', () => {
    const settings = restoredCopySettings({ logDir: "/p/it's/logs", sockDir: '/p/sock' });
    expect(settings).toContain("listen_addresses = ''");
    expect(settings).toContain('archive_mode = off');
    expect(settings).toContain("log_directory = '/p/it''s/logs'");
    expect(settings).toContain("cron.host = '/p/sock'");
  });

  it('leaves out only the databases a private copy does not need, and only when it knows them', () => {
    const info = { createdAt: '', sourceDataDir: '', database: 'testdb', serverVersion: '15', generator: '' };
    const databases = { template1: 1, template0: 4, postgres: 5, testdb: 16384, other: 16390 };
    expect(foldersToSkip({ ...info, databases }, 'testdb')).toEqual(['base/4', 'base/5', 'base/16390']);
    expect(foldersToSkip({ ...info, databases }, 'postgres')).toEqual(['base/4', 'base/16384', 'base/16390']);
    expect(foldersToSkip({ ...info, databases }, 'missing')).toEqual([]);
    expect(foldersToSkip(info, 'testdb')).toEqual([]);
    expect(foldersToSkip(undefined, 'testdb')).toEqual([]);
  });

  it('finds no stale runs in a missing folder', () => {
    expect(staleDiffRuns('/nonexistent/focus', 5)).toEqual([]);
  });
});
