/**
 * Row-wise comparison of table data between the two databases of `database diff`:
 * the tables named with `--tables` and every table inheriting `hectic.immutable`.
 * Inherited `created_at` / `updated_at` columns differ by construction (they record
 * when each database was built) and are left out.
 *
 * Each table is streamed from both servers at once (`COPY (SELECT … ORDER BY …) TO
 * STDOUT`) in key order — the primary key, else a unique key of NOT NULL columns, else
 * every column — and merged as the rows arrive (row-merge.ts), so memory stays flat
 * however large the table. Rows are compared as multisets: the order rows come back in
 * never shows as a difference. Only the differing rows are kept, up to a limit for the
 * report, with counts beyond it; a rows file, when asked for, gets them all.
 */
import fs from 'node:fs';
import type { ClientBase } from 'pg';
import { to as copyTo } from 'pg-copy-streams';
import { quoteIdent } from '../pg/db.js';
import { MissingTableError } from '../base/errors.js';
import { unwritableFile } from '../base/output-files.js';
import { decodeLine, formatRow, type Row } from './copy-text.js';
import { hasUnequalTextsForEqualValues, orderByItem, orderKindOf, textTiebreakItem, valueComparator, type OrderKind } from './row-order.js';
import { lineComparator, mergeLines, streamLines, type OrderColumn } from './row-merge.js';
import { RowHunks } from './row-hunks.js';

export { formatRow, type Row };

/** Columns ignored when inherited: timestamps of when each database was built. */
export const VOLATILE_INHERITED_COLUMNS = ['created_at', 'updated_at'] as const;

/** Differing rows of a table the report shows (and lists in JSON); the rest are counted. */
export const DEFAULT_ROW_LIMIT = 1000;

export type DataReason = 'requested' | 'immutable';
export type DataStatus = 'identical' | 'different' | 'only-in-db1' | 'only-in-db2';

export interface TableRef {
  oid: number;
  schema: string;
  name: string;
  /** `schema.name`, quoted where PostgreSQL needs it. */
  display: string;
}

export interface ColumnInfo {
  name: string;
  inherited: boolean;
  /** True for a collatable type (text, varchar, domains over them…). */
  collatable: boolean;
  /** The column's type, a domain's base type for a domain (decides how rows are ordered). */
  type: number;
}

export interface TableDataComparison {
  table: string;
  reasons: DataReason[];
  status: DataStatus;
  /** The columns compared (common to both sides, in DB1's order). */
  columns: string[];
  /** Inherited created_at/updated_at columns left out. */
  ignoredColumns: string[];
  /** Columns of one side only (a schema difference, reported there; rows are compared on the common ones). */
  columnsOnlyInDb1: string[];
  columnsOnlyInDb2: string[];
  /** What the rows were ordered by for display. */
  orderBy: RowOrder;
  rowCountDb1: number | null;
  rowCountDb2: number | null;
  /**
   * Rows (over `columns`) in DB1 but not DB2, and the reverse, multiplicity respected,
   * in key order: the first `rowLimit` only (a changed row is in both lists).
   */
  rowsOnlyInDb1: Row[];
  rowsOnlyInDb2: Row[];
  /** How many rows are only in DB1 / only in DB2 in all. */
  rowsOnlyInDb1Count: number;
  rowsOnlyInDb2Count: number;
  /** The unified diff of the rows (first line: the column names), '' when identical; cut after `rowLimit` changed rows. */
  diff: string;
  /** Changed rows (lines `-`/`+`) the diff leaves out. */
  diffRowsNotShown: number;
}

/** How compareData keeps what it finds. */
export interface DataCompareOptions {
  /** Differing rows kept per table (lists and diff); default DEFAULT_ROW_LIMIT. */
  rowLimit?: number;
  /** Writes the diff of every differing table, all rows, to this file. */
  rowsFile?: string;
}

const RELKINDS = "('r','p','v','m','f')";

const TABLE_FIELDS = `c.oid::int AS oid, n.nspname AS schema, c.relname AS name, format('%I.%I', n.nspname, c.relname) AS display`;

/** Resolves a user-given name (bare → search_path) to a table of this database, if any. */
export async function resolveTable(client: ClientBase, name: string): Promise<TableRef | undefined> {
  const result = await client.query<TableRef>(
    `SELECT ${TABLE_FIELDS} FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.oid = to_regclass($1) AND c.relkind IN ${RELKINDS}`,
    [name],
  );
  return result.rows[0];
}

/** Every table inheriting `hectic.immutable` (at any depth); none when the bundle is absent. */
export async function immutableTables(client: ClientBase): Promise<TableRef[]> {
  const result = await client.query<TableRef>(
    `WITH RECURSIVE heirs(relid) AS (
       SELECT inhrelid FROM pg_inherits WHERE inhparent = to_regclass('hectic.immutable')
       UNION
       SELECT i.inhrelid FROM pg_inherits i JOIN heirs h ON i.inhparent = h.relid
     )
     SELECT ${TABLE_FIELDS} FROM heirs JOIN pg_class c ON c.oid = heirs.relid
       JOIN pg_namespace n ON n.oid = c.relnamespace
      ORDER BY 4`,
  );
  return result.rows;
}

export async function tableColumns(client: ClientBase, oid: number): Promise<ColumnInfo[]> {
  const result = await client.query<ColumnInfo>(
    `SELECT a.attname AS name, a.attinhcount > 0 AS inherited, a.attcollation <> 0 AS collatable,
            (CASE WHEN ty.typtype = 'd' THEN ty.typbasetype ELSE a.atttypid END)::int AS type
       FROM pg_attribute a JOIN pg_type ty ON ty.oid = a.atttypid
      WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum`,
    [oid],
  );
  return result.rows;
}

export type RowOrder = 'primary key' | 'unique key' | 'all columns';

export interface TableKey {
  kind: Exclude<RowOrder, 'all columns'>;
  columns: string[];
}

/**
 * The key rows are listed by: the primary key, else the first (by name) unique,
 * non-partial index on plain NOT NULL columns; undefined when there is neither.
 */
export async function tableKey(client: ClientBase, oid: number): Promise<TableKey | undefined> {
  const result = await client.query<{ primary: boolean; columns: string[] }>(
    `SELECT i.indisprimary AS primary,
            array(SELECT a.attname::text FROM unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord)
                    JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
                   ORDER BY k.ord) AS columns
       FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid
      WHERE i.indrelid = $1 AND i.indisunique AND i.indpred IS NULL AND i.indexprs IS NULL
        AND NOT EXISTS (SELECT 1 FROM unnest(i.indkey) AS k(attnum)
                          JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
                         WHERE NOT a.attnotnull)
      ORDER BY i.indisprimary DESC, ic.relname`,
    [oid],
  );
  const row = result.rows[0];
  return row ? { kind: row.primary ? 'primary key' : 'unique key', columns: row.columns } : undefined;
}

export function isIgnoredColumn(column: ColumnInfo): boolean {
  return column.inherited && (VOLATILE_INHERITED_COLUMNS as readonly string[]).includes(column.name);
}

/** A table whose rows are compared, as found in each database. */
export interface SelectedTable {
  display: string;
  reasons: Set<DataReason>;
  db1: TableRef | undefined;
  db2: TableRef | undefined;
}

/**
 * Which tables to compare: each requested name resolved in both databases (a name
 * found in neither → exit 5), plus the immutable tables of either side.
 */
export async function selectTables(db1: ClientBase, db2: ClientBase, requested: readonly string[]): Promise<SelectedTable[]> {
  const entries = new Map<string, SelectedTable>();
  const add = (ref: TableRef, side: 'db1' | 'db2', reason: DataReason): void => {
    const entry = entries.get(ref.display) ?? { display: ref.display, reasons: new Set<DataReason>(), db1: undefined, db2: undefined };
    entry[side] ??= ref;
    entry.reasons.add(reason);
    entries.set(ref.display, entry);
  };
  const unknown: string[] = [];
  for (const name of requested) {
    const [in1, in2] = await Promise.all([resolveTable(db1, name), resolveTable(db2, name)]);
    if (!in1 && !in2) unknown.push(name);
    if (in1) add(in1, 'db1', 'requested');
    if (in2) add(in2, 'db2', 'requested');
  }
  if (unknown.length > 0) {
    throw new MissingTableError(`table${unknown.length === 1 ? '' : 's'} not found in either database: ${unknown.join(', ')}`);
  }
  const [immutable1, immutable2] = await Promise.all([immutableTables(db1), immutableTables(db2)]);
  for (const ref of immutable1) add(ref, 'db1', 'immutable');
  for (const ref of immutable2) add(ref, 'db2', 'immutable');
  // A table requested by name may be immutable on the other side only.
  for (const entry of entries.values()) {
    if (entry.reasons.has('immutable') && !entry.db1) entry.db1 = await resolveTable(db1, entry.display);
    if (entry.reasons.has('immutable') && !entry.db2) entry.db2 = await resolveTable(db2, entry.display);
  }
  return [...entries.values()].sort((a, b) => (a.display < b.display ? -1 : a.display > b.display ? 1 : 0));
}

interface TableSideInfo {
  columns: ColumnInfo[];
  key: TableKey | undefined;
}

async function describeSide(client: ClientBase, ref: TableRef): Promise<TableSideInfo> {
  const columns = await tableColumns(client, ref.oid);
  const key = await tableKey(client, ref.oid);
  return { columns, key };
}

/** A column rows are ordered by, with how its values order. */
interface OrderedColumn {
  name: string;
  kind: OrderKind;
}

/**
 * The order rows are read in: the key both sides share (when all its columns are
 * compared), else every compared column. A column whose type differs between the sides
 * is ordered by its text on both, so that both servers still agree.
 */
function rowOrder(side1: TableSideInfo | undefined, side2: TableSideInfo | undefined, columns: readonly string[]): { order: RowOrder; by: OrderedColumn[] } {
  const types1 = new Map((side1?.columns ?? []).map((column) => [column.name, column.type]));
  const types2 = new Map((side2?.columns ?? []).map((column) => [column.name, column.type]));
  const ordered = (name: string): OrderedColumn => {
    const type = types1.get(name) ?? types2.get(name);
    const other = types2.get(name) ?? type;
    return { name, kind: type !== undefined && type === other ? orderKindOf(type) : 'text-form' };
  };
  const keys = [side1?.key, side2?.key].filter((key): key is TableKey => key !== undefined);
  const key = side1 && side2 ? (side1.key && side2.key && sameList(side1.key.columns, side2.key.columns) ? side1.key : undefined) : keys[0];
  if (key && key.columns.every((column) => columns.includes(column))) return { order: key.kind, by: key.columns.map(ordered) };
  return { order: 'all columns', by: columns.map(ordered) };
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((value, index) => value === b[index]);
}

/**
 * The ORDER BY items and, for the merge, the same order over a COPY line's fields.
 * Without a unique key, equal values with different texts (1.0 and 1.00) are ordered
 * by their text too: otherwise each server could list such rows in its own order.
 */
function orderOf(columns: readonly string[], order: RowOrder, by: readonly OrderedColumn[]): { sql: string[]; merge: OrderColumn[] } {
  const sql: string[] = [];
  const merge: OrderColumn[] = [];
  for (const column of by) {
    sql.push(orderByItem(`t.${quoteIdent(column.name)}`, column.kind));
    merge.push({ index: columns.indexOf(column.name), compare: valueComparator(column.kind) });
  }
  if (order === 'all columns') {
    for (const column of by.filter((c) => hasUnequalTextsForEqualValues(c.kind))) {
      sql.push(textTiebreakItem(`t.${quoteIdent(column.name)}`));
      merge.push({ index: columns.indexOf(column.name), compare: valueComparator('text-form') });
    }
  }
  return { sql, merge };
}

/** The COPY that streams a table's compared columns in the merge's order. */
function copyQuery(table: TableRef, columns: readonly string[], orderBy: readonly string[]): string {
  const select = columns.map((column) => `t.${quoteIdent(column)}`).join(', ');
  const order = orderBy.length > 0 ? ` ORDER BY ${orderBy.join(', ')}` : '';
  return `COPY (SELECT ${select} FROM ONLY ${quoteIdent(table.schema)}.${quoteIdent(table.name)} AS t${order}) TO STDOUT`;
}

/**
 * Session settings that make a value's text the same on both servers: a restored
 * production cluster may have its own time zone, date style or float digits.
 */
const TEXT_FORM_SETTINGS = [
  "SET DateStyle = 'ISO, YMD'",
  "SET IntervalStyle = 'postgres'",
  "SET TimeZone = 'UTC'",
  'SET extra_float_digits = 1',
  "SET bytea_output = 'hex'",
  "SET lc_monetary = 'C'",
].join('; ');

/** A table's rows, streamed; undefined when the table is absent on that side. */
function streamRows(client: ClientBase, table: TableRef | undefined, query: (table: TableRef) => string): AsyncGenerator<string[]> | undefined {
  return table ? streamLines(client.query(copyTo(query(table)))) : undefined;
}

/** Reads what is left of a stream: a COPY left half-read would block its connection. */
async function drain(lines: AsyncGenerator<string[]> | undefined): Promise<void> {
  if (!lines) return;
  try {
    for (;;) if ((await lines.next()).done) return;
  } catch {
    // Its own failure is reported by whoever reads it; here it only has to end.
  }
}

/** Buffered writes to the rows file (one write call per megabyte, not per row). */
class RowsFileWriter {
  private readonly fd: number;
  private chunks: string[] = [];
  private size = 0;

  constructor(file: string) {
    try {
      this.fd = fs.openSync(file, 'w', 0o644);
    } catch (error) {
      throw unwritableFile('rows file', file, error);
    }
  }

  write(text: string): void {
    this.chunks.push(text);
    this.size += text.length;
    if (this.size >= 1 << 20) this.flush();
  }

  flush(): void {
    if (this.chunks.length > 0) fs.writeSync(this.fd, this.chunks.join(''));
    this.chunks = [];
    this.size = 0;
  }

  close(): void {
    this.flush();
    fs.closeSync(this.fd);
  }
}

/** The `---`/`+++` lines of a table's data diff (an absent side is named so). */
function diffHeader(table: string, status: DataStatus): string {
  const oldName = status === 'only-in-db2' ? 'DB1: (absent)' : `DB1: ${table}`;
  const newName = status === 'only-in-db1' ? 'DB2: (absent)' : `DB2: ${table}`;
  return `--- ${oldName}\n+++ ${newName}\n`;
}

/** One table's differing rows as the merge reports them: the report's share, counts, and the rows file. */
class TableDifferences {
  readonly onlyInDb1: Row[] = [];
  readonly onlyInDb2: Row[] = [];
  countDb1 = 0;
  countDb2 = 0;
  private readonly hunks: string[] = [];
  private readonly shown: RowHunks;
  private readonly all: RowHunks | undefined;
  private fileHeaderWritten = false;

  constructor(
    private readonly table: string,
    private readonly status: DataStatus,
    private readonly columns: readonly string[],
    private readonly limit: number,
    file: RowsFileWriter | undefined,
  ) {
    this.shown = new RowHunks({ limit, onHunk: (text) => this.hunks.push(text) });
    this.all = file && new RowHunks({
      onHunk: (text) => {
        if (!this.fileHeaderWritten) file.write(diffHeader(this.table, this.status));
        this.fileHeaderWritten = true;
        file.write(text);
      },
    });
    // The first line of each side is the column names: a side that is absent lacks it too.
    const header = columns.join('\t');
    if (status === 'only-in-db1') this.each((hunks) => hunks.remove(header, false));
    else if (status === 'only-in-db2') this.each((hunks) => hunks.add(header, false));
    else this.each((hunks) => hunks.equal(header));
  }

  private each(action: (hunks: RowHunks) => void): void {
    action(this.shown);
    if (this.all) action(this.all);
  }

  private row(line: string): Row {
    return this.columns.length === 0 ? [] : decodeLine(line);
  }

  equal(line: string): void {
    this.each((hunks) => hunks.equal(line));
  }

  db1Only(line: string): void {
    this.countDb1 += 1;
    if (this.onlyInDb1.length < this.limit) this.onlyInDb1.push(this.row(line));
    this.each((hunks) => hunks.remove(line));
  }

  db2Only(line: string): void {
    this.countDb2 += 1;
    if (this.onlyInDb2.length < this.limit) this.onlyInDb2.push(this.row(line));
    this.each((hunks) => hunks.add(line));
  }

  /** The report's diff ('' when no row differs). */
  finish(): { diff: string; notShown: number } {
    this.each((hunks) => hunks.finish());
    return { diff: this.hunks.length > 0 ? diffHeader(this.table, this.status) + this.hunks.join('') : '', notShown: this.shown.notShown };
  }
}

async function compareEntry(db1: ClientBase, db2: ClientBase, entry: SelectedTable, limit: number, file: RowsFileWriter | undefined): Promise<TableDataComparison> {
  const reasons = [...entry.reasons].sort();
  const [side1, side2] = await Promise.all([entry.db1 && describeSide(db1, entry.db1), entry.db2 && describeSide(db2, entry.db2)]);
  const ignored = new Set<string>();
  const kept = (side: { columns: ColumnInfo[] } | undefined): string[] =>
    (side?.columns ?? []).filter((column) => {
      if (!isIgnoredColumn(column)) return true;
      ignored.add(column.name);
      return false;
    }).map((column) => column.name);
  const columns1 = kept(side1);
  const columns2 = kept(side2);
  const both = Boolean(side1 && side2);
  const columns = both ? columns1.filter((column) => columns2.includes(column)) : side1 ? columns1 : columns2;
  const { order, by } = rowOrder(side1, side2, columns);
  const ordering = orderOf(columns, order, by);
  const query = (table: TableRef): string => copyQuery(table, columns, ordering.sql);
  // Provisional until both sides are read: a table on both sides is 'different' or 'identical'.
  const presence: DataStatus = !entry.db2 ? 'only-in-db1' : !entry.db1 ? 'only-in-db2' : 'different';
  const found = new TableDifferences(entry.display, presence, columns, limit, file);
  const lines1 = streamRows(db1, entry.db1, query);
  const lines2 = streamRows(db2, entry.db2, query);
  let counts: { db1Rows: number; db2Rows: number };
  try {
    counts = await mergeLines(lines1, lines2, lineComparator(ordering.merge), {
      equal: (line) => found.equal(line),
      db1Only: (line) => found.db1Only(line),
      db2Only: (line) => found.db2Only(line),
    });
  } catch (error) {
    await Promise.all([drain(lines1), drain(lines2)]);
    throw error;
  }
  const status: DataStatus = presence !== 'different' ? presence : found.countDb1 + found.countDb2 > 0 ? 'different' : 'identical';
  const { diff, notShown } = found.finish();
  return {
    table: entry.display,
    reasons,
    status,
    columns,
    ignoredColumns: [...ignored].sort(),
    columnsOnlyInDb1: both ? columns1.filter((column) => !columns2.includes(column)) : [],
    columnsOnlyInDb2: both ? columns2.filter((column) => !columns1.includes(column)) : [],
    orderBy: order,
    rowCountDb1: entry.db1 ? counts.db1Rows : null,
    rowCountDb2: entry.db2 ? counts.db2Rows : null,
    rowsOnlyInDb1: found.onlyInDb1,
    rowsOnlyInDb2: found.onlyInDb2,
    rowsOnlyInDb1Count: found.countDb1,
    rowsOnlyInDb2Count: found.countDb2,
    diff: status === 'identical' ? '' : diff,
    diffRowsNotShown: status === 'identical' ? 0 : notShown,
  };
}

/**
 * Compares the data of the selected tables (see selectTables). Tables go one after
 * another; the two sides of each stream at once, one connection per database.
 */
export async function compareData(db1: ClientBase, db2: ClientBase, entries: readonly SelectedTable[], options: DataCompareOptions = {}): Promise<TableDataComparison[]> {
  const limit = options.rowLimit ?? DEFAULT_ROW_LIMIT;
  const file = options.rowsFile === undefined ? undefined : new RowsFileWriter(options.rowsFile);
  try {
    const results: TableDataComparison[] = [];
    if (entries.length > 0) await Promise.all([db1.query(TEXT_FORM_SETTINGS), db2.query(TEXT_FORM_SETTINGS)]);
    for (const entry of entries) results.push(await compareEntry(db1, db2, entry, limit, file));
    return results;
  } finally {
    file?.close();
  }
}

export function dataDiffers(results: readonly TableDataComparison[]): boolean {
  return results.some((result) => result.status !== 'identical');
}
