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
import type { ClientBase } from 'pg';
import { to as copyTo } from 'pg-copy-streams';
import { quoteIdent } from '../pg/db.js';
import { MissingTableError } from '../base/errors.js';
import { formatRow, type Row } from './copy-text.js';
import { hasUnequalTextsForEqualValues, orderByItem, orderKindOf, textTiebreakItem, valueComparator, type OrderKind } from './row-order.js';
import { lineComparator, mergeLines, streamLines, type OrderColumn } from './row-merge.js';
import { immutableTables, isIgnoredColumn, resolveTable, tableColumns, tableKey, type ColumnInfo, type RowOrder, type TableKey, type TableRef } from './data-tables.js';
import { RowsFileWriter, TableDifferences } from './table-differences.js';

export { formatRow, type Row };

/** Differing rows of a table the report shows (and lists in JSON); the rest are counted. */
export const DEFAULT_ROW_LIMIT = 1000;

export type DataReason = 'requested' | 'immutable';
export type DataStatus = 'identical' | 'different' | 'only-in-db1' | 'only-in-db2';

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
