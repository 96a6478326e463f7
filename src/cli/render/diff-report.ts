/**
 * The `database diff` report: a summary, then unified diffs per schema object, then
 * the table data sections (`--- TABLE DATA ---` for `--tables`,
 * `--- IMMUTABLE TABLE DATA ---` for tables inheriting hectic.immutable). The JSON
 * form carries the same content as one document (shape documented in the README).
 * Pure: the caller decides where the text goes and whether it is coloured.
 */
import { createTwoFilesPatch, FILE_HEADERS_ONLY } from 'diff';
import type { Palette } from '../../base/palette.js';
import { plural } from '../../base/text.js';
import type { ChangedObject } from '../../diff/compare-schema.js';
import type { Row, TableDataComparison } from '../../diff/compare-data.js';
import type { ComparedAspects, DiffResult } from '../../diff/diff-result.js';
import type { SchemaObject } from '../../diff/schema-dump.js';
import { migrationJson, migrationLines, rehearsalJson, rehearsalLines } from './diff-migration.js';

export const DB1_LABEL = 'DB1 (backup + migrations)';
export const DB2_LABEL = 'DB2 (sources)';
export const SCHEMA_SECTION = '--- SCHEMA ---';
export const TABLE_DATA_SECTION = '--- TABLE DATA ---';
export const IMMUTABLE_SECTION = '--- IMMUTABLE TABLE DATA ---';

const CONTEXT_LINES = 3;

function withNewline(text: string): string {
  return text === '' || text.endsWith('\n') ? text : `${text}\n`;
}

/** A unified diff between two texts, with our own file headers. */
export function unifiedDiff(oldName: string, newName: string, oldText: string, newText: string): string {
  return createTwoFilesPatch(oldName, newName, withNewline(oldText), withNewline(newText), undefined, undefined, {
    context: CONTEXT_LINES,
    headerOptions: FILE_HEADERS_ONLY,
  });
}

export function changedObjectDiff(object: ChangedObject): string {
  return unifiedDiff(`DB1: ${object.key}`, `DB2: ${object.key}`, object.db1, object.db2);
}

export function onlyInDb1Diff(object: SchemaObject): string {
  return unifiedDiff(`DB1: ${object.key}`, 'DB2: (absent)', object.sql, '');
}

export function onlyInDb2Diff(object: SchemaObject): string {
  return unifiedDiff('DB1: (absent)', `DB2: ${object.key}`, '', object.sql);
}

/** The unified diff of a table's rows (header line = column names); '' when identical. */
export function tableDataDiff(table: TableDataComparison): string {
  return table.diff;
}

function describeTableDifference(table: TableDataComparison): string {
  if (table.status === 'only-in-db1') return `only in DB1 (${plural(table.rowCountDb1 ?? 0, 'row')})`;
  if (table.status === 'only-in-db2') return `only in DB2 (${plural(table.rowCountDb2 ?? 0, 'row')})`;
  return `${plural(table.rowsOnlyInDb1Count, 'row')} only in DB1, ${plural(table.rowsOnlyInDb2Count, 'row')} only in DB2`;
}

export interface DiffSummary {
  onlyInDb1: number;
  onlyInDb2: number;
  changed: number;
  identicalObjects: number;
  dataTablesCompared: number;
  dataTablesDiffering: number;
}

export function summarize(result: DiffResult): DiffSummary {
  return {
    onlyInDb1: result.schema.onlyInDb1.length,
    onlyInDb2: result.schema.onlyInDb2.length,
    changed: result.schema.changed.length,
    identicalObjects: result.schema.identical,
    dataTablesCompared: result.data.length,
    dataTablesDiffering: result.data.filter((table) => table.status !== 'identical').length,
  };
}

/** Colours a report the way `git diff` does. */
export function colorize(text: string, color: Palette): string {
  const lines = text.split('\n');
  return lines
    .map((line, index) => {
      if (/^--- [A-Z ]+ ---$/.test(line)) return color.bold(color.yellow(line));
      // File headers come as a `--- `/`+++ ` pair; a removed SQL comment line also starts with `---`.
      const fileHeader =
        (line.startsWith('--- ') && (lines[index + 1] ?? '').startsWith('+++ ')) ||
        (line.startsWith('+++ ') && (lines[index - 1] ?? '').startsWith('--- '));
      if (fileHeader) return color.bold(line);
      if (line.startsWith('@@')) return color.cyan(line);
      if (line.startsWith('+')) return color.green(line);
      if (line.startsWith('-')) return color.red(line);
      return line;
    })
    .join('\n');
}

/** What the report did not look at, said in every report so a clean one is not over-read. */
export function notComparedLines(compared: ComparedAspects): string[] {
  const lines = [
    compared.privileges
      ? '  owners were not compared'
      : '  privileges and owners were not compared (--privileges compares grants and default privileges)',
  ];
  if (!compared.columnOrder) lines.push('  column order was ignored (--ignore-column-order)');
  return lines;
}

function header(result: DiffResult): string[] {
  const applied = result.migrationsApplied.length;
  return [
    `  DB1 = ${result.db1Start ?? `backup ${result.backup}`} + migrate up all (${plural(applied, 'migration')} applied)`,
    ...(result.db1Origin ? [`        ${result.db1Origin}`] : []),
    `  DB2 = sources ${result.entrypoint}${result.mock ? ' (USE_MOCK=1)' : ''} + migrator init`,
  ];
}

function summaryLines(result: DiffResult): string[] {
  const summary = summarize(result);
  const lines = [
    'Summary',
    `  objects only in DB1:    ${summary.onlyInDb1}`,
    `  objects only in DB2:    ${summary.onlyInDb2}`,
    `  objects changed:        ${summary.changed}`,
    `  data tables differing:  ${summary.dataTablesDiffering} of ${summary.dataTablesCompared}`,
  ];
  const list = (title: string, keys: readonly string[]): void => {
    if (keys.length === 0) return;
    lines.push('', title, ...keys.map((key) => `  ${key}`));
  };
  list(`Only in ${DB1_LABEL}:`, result.schema.onlyInDb1.map((object) => object.key));
  list(`Only in ${DB2_LABEL}:`, result.schema.onlyInDb2.map((object) => object.key));
  list('Changed:', result.schema.changed.map((object) => object.key));
  list(
    'Table data differing:',
    result.data.filter((table) => table.status !== 'identical').map((table) => `${table.table}: ${describeTableDifference(table)}`),
  );
  return lines;
}

function columnNotes(table: TableDataComparison): string[] {
  const notes: string[] = [];
  if (table.columnsOnlyInDb1.length > 0 || table.columnsOnlyInDb2.length > 0) {
    const parts = [
      table.columnsOnlyInDb1.length > 0 ? `columns only in DB1: ${table.columnsOnlyInDb1.join(', ')}` : '',
      table.columnsOnlyInDb2.length > 0 ? `columns only in DB2: ${table.columnsOnlyInDb2.join(', ')}` : '',
    ].filter(Boolean);
    notes.push(`# ${table.table}: ${parts.join('; ')} (rows compared on the common columns)`);
  }
  return notes;
}

function dataSection(title: string, tables: readonly TableDataComparison[]): string[] {
  const differing = tables.filter((table) => table.status !== 'identical');
  if (differing.length === 0) return [];
  const lines = ['', title];
  for (const table of differing) {
    lines.push('', ...columnNotes(table), tableDataDiff(table).trimEnd());
    if (table.diffRowsNotShown > 0) lines.push(`# ${table.table}: ${plural(table.diffRowsNotShown, 'more differing row')} not shown (--rows-file FILE lists them all)`);
  }
  return lines;
}

/** The human report: summary, then per-object diffs, then the data sections. */
/** The rehearsal table and the migration section, each after a blank line when present. */
function sectionLines(result: DiffResult): string[] {
  return [rehearsalLines(result.rehearsal ?? []), migrationLines(result.migration)].flatMap((lines) => (lines.length > 0 ? ['', ...lines] : []));
}

/** `title`: the command the report is of (`database check` shows diff's report too). */
export function formatTextReport(result: DiffResult, color?: Palette, title = 'database diff'): string {
  const summary = summarize(result);
  if (result.identical) {
    const text = [
      `${title}: no differences`,
      ...header(result),
      `  compared ${plural(summary.identicalObjects, 'schema object')} and the data of ${plural(summary.dataTablesCompared, 'table')}`,
      ...notComparedLines(result.compared),
      ...sectionLines(result),
    ].join('\n');
    return `${text}\n`;
  }
  const lines = [`${title}: differences found`, ...header(result), ...notComparedLines(result.compared), '', ...summaryLines(result), ...sectionLines(result)];
  const schemaDiffs = [
    ...result.schema.onlyInDb1.map(onlyInDb1Diff),
    ...result.schema.onlyInDb2.map(onlyInDb2Diff),
    ...result.schema.changed.map(changedObjectDiff),
  ];
  if (schemaDiffs.length > 0) {
    lines.push('', SCHEMA_SECTION);
    for (const diff of schemaDiffs) lines.push('', diff.trimEnd());
  }
  const immutable = result.data.filter((table) => table.reasons.includes('immutable'));
  const requested = result.data.filter((table) => !table.reasons.includes('immutable'));
  lines.push(...dataSection(TABLE_DATA_SECTION, requested), ...dataSection(IMMUTABLE_SECTION, immutable));
  const text = `${lines.join('\n')}\n`;
  return color?.enabled ? colorize(text, color) : text;
}

/** The JSON document of a run that failed: `{"ok": false, "error": {"code", "message"}}`. */
export function toJsonError(code: number, message: string, details?: string): unknown {
  return { ok: false, error: { code, message, ...(details ? { details } : {}) } };
}

function rowObject(columns: readonly string[], row: Row): Record<string, string | null> {
  const object: Record<string, string | null> = {};
  columns.forEach((column, index) => (object[column] = row[index] ?? null));
  return object;
}

/** The JSON report (see README, "database diff --json"). */
export function toJsonReport(result: DiffResult): unknown {
  return {
    ok: true,
    identical: result.identical,
    compared: { privileges: result.compared.privileges, owners: false, columnOrder: result.compared.columnOrder },
    db1: {
      description: result.db1Start ? `${result.db1Start} + migrate up all` : 'backup + migrate up all',
      backup: result.backup,
      ...(result.db1Origin ? { origin: result.db1Origin } : {}),
      migrationsApplied: result.migrationsApplied,
    },
    db2: { description: 'sources + migrator init', entrypoint: result.entrypoint, mock: result.mock },
    summary: summarize(result),
    schema: {
      onlyInDb1: result.schema.onlyInDb1.map(({ key, type, schema, name, sql }) => ({ key, type, schema, name, sql })),
      onlyInDb2: result.schema.onlyInDb2.map(({ key, type, schema, name, sql }) => ({ key, type, schema, name, sql })),
      changed: result.schema.changed.map((object) => ({
        key: object.key,
        type: object.type,
        schema: object.schema,
        name: object.name,
        db1: object.db1,
        db2: object.db2,
        diff: changedObjectDiff(object),
      })),
    },
    rehearsal: rehearsalJson(result.rehearsal ?? []),
    migration: migrationJson(result.migration),
    data: result.data.map((table) => ({
      table: table.table,
      reasons: table.reasons,
      status: table.status,
      columns: table.columns,
      ignoredColumns: table.ignoredColumns,
      columnsOnlyInDb1: table.columnsOnlyInDb1,
      columnsOnlyInDb2: table.columnsOnlyInDb2,
      orderBy: table.orderBy,
      rowCountDb1: table.rowCountDb1,
      rowCountDb2: table.rowCountDb2,
      rowsOnlyInDb1: table.rowsOnlyInDb1.map((row) => rowObject(table.columns, row)),
      rowsOnlyInDb2: table.rowsOnlyInDb2.map((row) => rowObject(table.columns, row)),
      rowsOnlyInDb1Count: table.rowsOnlyInDb1Count,
      rowsOnlyInDb2Count: table.rowsOnlyInDb2Count,
      diff: tableDataDiff(table),
      diffRowsNotShown: table.diffRowsNotShown,
    })),
  };
}
