/**
 * Row-wise comparison of table data between the two databases of `database diff`:
 * the tables named with `--tables` and every table inheriting `hectic.immutable`.
 * Inherited `created_at` / `updated_at` columns differ by construction (they record
 * when each database was built) and are left out. Rows are compared as multisets, so
 * the order rows come back in never shows as a difference; they are read in key order
 * — the primary key, else a unique key of NOT NULL columns, else every column — compared
 * as the columns' types (2 before 10), text in the "C" collation so both databases
 * agree, so the report's diffs read naturally.
 */
import type { ClientBase } from 'pg';
import { quoteIdent } from '../pg/db.js';
import { MissingTableError } from '../base/errors.js';

/** Columns ignored when inherited: timestamps of when each database was built. */
export const VOLATILE_INHERITED_COLUMNS = ['created_at', 'updated_at'] as const;

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
  /** True for a collatable type (text, varchar, domains over them…): ordered with COLLATE "C". */
  collatable: boolean;
}

export type Row = Array<string | null>;

export interface TableSide {
  /** Compared columns, in this database's order. */
  columns: string[];
  rows: Row[];
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
  /** Rows (over `columns`) in DB1 but not DB2, and the reverse; multiplicity respected. */
  rowsOnlyInDb1: Row[];
  rowsOnlyInDb2: Row[];
  /** All rows of each side over `columns`, in display order (for the unified diff). */
  db1Rows: Row[];
  db2Rows: Row[];
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
    `SELECT attname AS name, attinhcount > 0 AS inherited, attcollation <> 0 AS collatable FROM pg_attribute
      WHERE attrelid = $1 AND attnum > 0 AND NOT attisdropped ORDER BY attnum`,
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

/**
 * An ORDER BY item: the table's column as its type (text-like types in the "C"
 * collation), or as text. Qualified with the table's alias: a bare name would mean the
 * output column of the same name, which is the `::text` cast — and sort 1, 10, 2.
 */
function orderItem(column: Pick<ColumnInfo, 'name' | 'collatable'>, asText: boolean): string {
  const qualified = `t.${quoteIdent(column.name)}`;
  if (asText) return `${qualified}::text COLLATE "C"`;
  return column.collatable ? `${qualified} COLLATE "C"` : qualified;
}

/** SQLSTATE of "could not identify an ordering operator" (json, point, xml… have none). */
const UNDEFINED_FUNCTION = '42883';

/**
 * Reads the rows of `table` over `columns` as text, ordered by `orderBy` compared as
 * their types; a column type without an ordering falls back to its text form.
 */
export async function readRows(client: ClientBase, table: TableRef, columns: readonly string[], orderBy: ReadonlyArray<Pick<ColumnInfo, 'name' | 'collatable'>>): Promise<Row[]> {
  const select = columns.length > 0 ? columns.map((column) => `t.${quoteIdent(column)}::text`).join(', ') : '';
  const query = (asText: boolean): string => {
    const order = orderBy.map((column) => orderItem(column, asText));
    return `SELECT ${select} FROM ONLY ${quoteIdent(table.schema)}.${quoteIdent(table.name)} AS t${order.length > 0 ? ` ORDER BY ${order.join(', ')}` : ''}`;
  };
  try {
    return (await client.query<Row>({ text: query(false), rowMode: 'array' })).rows;
  } catch (error) {
    if ((error as { code?: string }).code !== UNDEFINED_FUNCTION) throw error;
    return (await client.query<Row>({ text: query(true), rowMode: 'array' })).rows;
  }
}

/** A row as one line: tab-separated, COPY text escaping, NULL as `\N`. */
export function formatRow(row: Row): string {
  return row
    .map((value) => (value === null ? '\\N' : value.replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n').replace(/\r/g, '\\r')))
    .join('\t');
}

/** Rows of `a` not matched in `b`, respecting multiplicity, in `a`'s order. */
export function rowsMissingFrom(a: readonly Row[], b: readonly Row[]): Row[] {
  const counts = new Map<string, number>();
  for (const row of b) {
    const line = formatRow(row);
    counts.set(line, (counts.get(line) ?? 0) + 1);
  }
  const missing: Row[] = [];
  for (const row of a) {
    const line = formatRow(row);
    const left = counts.get(line) ?? 0;
    if (left > 0) counts.set(line, left - 1);
    else missing.push(row);
  }
  return missing;
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

/**
 * The order rows are read in: the key both sides share (when all its columns are
 * compared), else every compared column.
 */
function rowOrder(side1: TableSideInfo | undefined, side2: TableSideInfo | undefined, columns: readonly string[]): { order: RowOrder; by: ColumnInfo[] } {
  const infos = new Map([...(side2?.columns ?? []), ...(side1?.columns ?? [])].map((column) => [column.name, column]));
  const keys = [side1?.key, side2?.key].filter((key): key is TableKey => key !== undefined);
  const key = side1 && side2 ? (side1.key && side2.key && sameList(side1.key.columns, side2.key.columns) ? side1.key : undefined) : keys[0];
  if (key && key.columns.every((column) => columns.includes(column))) {
    return { order: key.kind, by: key.columns.map((column) => infos.get(column) ?? { name: column, inherited: false, collatable: false }) };
  }
  return { order: 'all columns', by: columns.map((column) => infos.get(column) ?? { name: column, inherited: false, collatable: false }) };
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((value, index) => value === b[index]);
}

async function compareEntry(db1: ClientBase, db2: ClientBase, entry: SelectedTable): Promise<TableDataComparison> {
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
  const [rows1, rows2] = await Promise.all([
    entry.db1 ? readRows(db1, entry.db1, columns, by) : Promise.resolve(undefined),
    entry.db2 ? readRows(db2, entry.db2, columns, by) : Promise.resolve(undefined),
  ]);
  const onlyIn1 = rowsMissingFrom(rows1 ?? [], rows2 ?? []);
  const onlyIn2 = rowsMissingFrom(rows2 ?? [], rows1 ?? []);
  const status: DataStatus = !rows2 ? 'only-in-db1' : !rows1 ? 'only-in-db2' : onlyIn1.length + onlyIn2.length > 0 ? 'different' : 'identical';
  return {
    table: entry.display,
    reasons,
    status,
    columns,
    ignoredColumns: [...ignored].sort(),
    columnsOnlyInDb1: both ? columns1.filter((column) => !columns2.includes(column)) : [],
    columnsOnlyInDb2: both ? columns2.filter((column) => !columns1.includes(column)) : [],
    orderBy: order,
    rowCountDb1: rows1 ? rows1.length : null,
    rowCountDb2: rows2 ? rows2.length : null,
    rowsOnlyInDb1: onlyIn1,
    rowsOnlyInDb2: onlyIn2,
    db1Rows: rows1 ?? [],
    db2Rows: rows2 ?? [],
  };
}

/** Compares the data of the selected tables (see selectTables). */
export async function compareData(db1: ClientBase, db2: ClientBase, entries: readonly SelectedTable[]): Promise<TableDataComparison[]> {
  const results: TableDataComparison[] = [];
  // One client per database runs one query at a time: tables go one after another,
  // both databases in parallel.
  for (const entry of entries) results.push(await compareEntry(db1, db2, entry));
  return results;
}

export function dataDiffers(results: readonly TableDataComparison[]): boolean {
  return results.some((result) => result.status !== 'identical');
}
