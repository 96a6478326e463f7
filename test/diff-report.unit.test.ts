/** The data and report side of `database diff` without a database, and user table names. */
import { createPalette } from '../src/base/palette.js';
import { describe, expect, it } from 'vitest';
import { formatRow, type TableDataComparison } from '../src/diff/compare-data.js';
import { compareSchemas } from '../src/diff/compare-schema.js';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { colorize, formatTextReport, IMMUTABLE_SECTION, toJsonError, toJsonReport } from '../src/cli/render/diff-report.js';
import type { DiffResult } from '../src/diff/diff-result.js';
import { foldersToSkip } from '../src/backup/backup-files.js';
import { restoredCopySettings } from '../src/diff/diff-sides.js';
import { DIFF_FINISHED, markRunFinished, staleDiffRuns } from '../src/diff/diff-runs.js';
import { maskOwner, splitDump, type SchemaObject } from '../src/diff/schema-dump.js';
import { ignoreColumnOrder } from '../src/diff/normalize.js';
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
    rowsOnlyInDb1Count: 0,
    rowsOnlyInDb2Count: 0,
    diff: '',
    diffRowsNotShown: 0,
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
    compared: { privileges: false, columnOrder: true },
    schema: compareSchemas([], []),
    data: [],
    ...overrides,
  };
}

describe('rows', () => {
  it('formats a row as COPY text', () => {
    expect(formatRow(['a\tb', null, 'line\nbreak', 'back\\slash'])).toBe('a\\tb\t\\N\tline\\nbreak\tback\\\\slash');
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
        rowsOnlyInDb1Count: 1,
        rowsOnlyInDb2Count: 1,
        diff: '--- DB1: public.currency\n+++ DB2: public.currency\n@@ -1,3 +1,3 @@\n code\tname\n-EUR\tEuro\n+EUR\tEuro!\n USD\tUS Dollar\n',
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
    const coloured = colorize('--- DB1: x\n+++ DB2: x\n@@ -1 +1 @@\n-a\n+b\n--- removed comment', createPalette(true));
    expect(coloured).toContain('\u001b[31m-a\u001b[39m');
    expect(coloured).toContain('\u001b[32m+b\u001b[39m');
    expect(coloured).toContain('\u001b[1m--- DB1: x\u001b[22m');
    expect(coloured).toContain('\u001b[31m--- removed comment\u001b[39m');
  });

  it('has a documented JSON shape', () => {
    const schema = compareSchemas([object('TABLE public.t', 'a')], [object('TABLE public.t', 'b')]);
    const json = toJsonReport(result({ schema, data: [table({ status: 'different', rowsOnlyInDb1: [['EUR', null]] })] })) as Record<string, unknown>;
    expect(Object.keys(json)).toEqual(['ok', 'identical', 'compared', 'db1', 'db2', 'summary', 'schema', 'rehearsal', 'migration', 'data']);
    expect(json.rehearsal).toEqual([]);
    expect(json.migration).toBeNull();
    expect(json.ok).toBe(true);
    expect(json.compared).toEqual({ privileges: false, owners: false, columnOrder: true });
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

  it('counts only finished runs toward the kept logs; interrupted ones go once a later run finished', () => {
    const focus = fs.mkdtempSync(path.join(os.tmpdir(), 'db-tool-runs-'));
    try {
      // A pid that cannot be alive (above pid_max): the run's process is gone.
      const dead = 99999999;
      const run = (name: string, finished: boolean, time: number): string => {
        const dir = path.join(focus, `database-diff-${name}-${dead}-abcdef`);
        fs.mkdirSync(path.join(dir, 'logs'), { recursive: true });
        if (finished) {
          markRunFinished(dir, 'settled');
          fs.utimesSync(path.join(dir, DIFF_FINISHED), time, time);
        }
        fs.utimesSync(dir, time, time);
        return dir;
      };
      const finished = [1, 2, 3].map((i) => run(`f${i}`, true, 1000 + i * 10));
      const interruptedOld = run('i-old', false, 1015);
      const interruptedNew = run('i-new', false, 1100);
      const busy = path.join(focus, `database-diff-busy-${dead}-abcdef`);
      fs.mkdirSync(path.join(busy, 'db1'), { recursive: true });
      const stale = staleDiffRuns(focus, 2).sort();
      // The oldest finished run goes; the interrupted one older than the newest finished
      // run goes; the newer interrupted run and a folder still holding a cluster stay.
      expect(stale).toEqual([finished[0], interruptedOld].sort());
      expect(stale).not.toContain(interruptedNew);
      expect(stale).not.toContain(busy);
      expect(staleDiffRuns(focus, 5)).toEqual([interruptedOld]);
    } finally {
      fs.rmSync(focus, { recursive: true, force: true });
    }
  });
});

describe('what is compared', () => {
  it('says in every report that owners (and without --privileges, privileges) were not compared', () => {
    const clean = formatTextReport(result({ identical: true }));
    expect(clean).toContain('privileges and owners were not compared');
    const withPrivileges = formatTextReport(result({ identical: true, compared: { privileges: true, columnOrder: false } }));
    expect(withPrivileges).toContain('owners were not compared');
    expect(withPrivileges).not.toContain('privileges and owners');
    expect(withPrivileges).toContain('column order was ignored');
    expect(formatTextReport(result({ schema: compareSchemas([object('TABLE public.t', 'a')], []) }))).toContain('privileges and owners were not compared');
  });

  it('has a documented failure document', () => {
    expect(toJsonError(3, 'no backup found')).toEqual({ ok: false, error: { code: 3, message: 'no backup found' } });
    expect(toJsonError(2, 'x', 'detail')).toEqual({ ok: false, error: { code: 2, message: 'x', details: 'detail' } });
  });

  it('masks the owning role in grants, whole words only', () => {
    expect(maskOwner('ALTER DEFAULT PRIVILEGES FOR ROLE app IN SCHEMA public GRANT SELECT ON TABLES TO reader;', 'app')).toBe(
      'ALTER DEFAULT PRIVILEGES FOR ROLE <owner> IN SCHEMA public GRANT SELECT ON TABLES TO reader;',
    );
    expect(maskOwner('GRANT SELECT ON TABLE public.t TO app_reader;', 'app')).toBe('GRANT SELECT ON TABLE public.t TO app_reader;');
    expect(maskOwner('REVOKE ALL ON TABLE public.t FROM "App Owner";', 'App Owner')).toBe('REVOKE ALL ON TABLE public.t FROM <owner>;');
  });

  it('reads grants of two owners alike, and keys them by object', () => {
    const dump = (owner: string) =>
      ['--', `-- Name: TABLE t; Type: ACL; Schema: public; Owner: ${owner}`, '--', '', `GRANT SELECT ON TABLE public.t TO reader;`, `REVOKE INSERT ON TABLE public.t FROM ${owner};`, ''].join('\n');
    const [a] = splitDump(dump('app'));
    const [b] = splitDump(dump('postgres'));
    expect(a?.key).toBe('ACL TABLE public.t');
    expect(a?.sql).toBe(b?.sql);
    expect(a?.sql).toContain('FROM <owner>;');
  });

  it('sorts the column lines of a table for --ignore-column-order, keeping multi-line definitions whole', () => {
    const db1 = ['CREATE TABLE public.t (', '    id integer NOT NULL,', '    name text,', '    note text', ')', 'INHERITS (hectic.created_at);'].join('\n');
    const db2 = ['CREATE TABLE public.t (', '    id integer NOT NULL,', '    note text,', '    name text', ')', 'INHERITS (hectic.created_at);'].join('\n');
    expect(ignoreColumnOrder(db1)).toBe(ignoreColumnOrder(db2));
    expect(ignoreColumnOrder(db1)).toContain('    note text\n)');
    const multi = ['CREATE TABLE public.u (', '    b text DEFAULT \'x', 'y\'::text,', '    a integer', ');'].join('\n');
    expect(ignoreColumnOrder(multi)).toBe(['CREATE TABLE public.u (', '    a integer,', '    b text DEFAULT \'x', 'y\'::text', ');'].join('\n'));
    expect(ignoreColumnOrder('CREATE VIEW v AS SELECT 1;')).toBe('CREATE VIEW v AS SELECT 1;');
  });
});
