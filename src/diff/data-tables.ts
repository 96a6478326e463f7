/**
 * The tables `database diff` compares the data of: resolving the names of --tables,
 * the tables inheriting hectic.immutable, their columns (inherited timestamps left out)
 * and the key their rows are ordered by.
 */
import type { ClientBase } from 'pg';

/** Columns ignored when inherited: timestamps of when each database was built. */
export const VOLATILE_INHERITED_COLUMNS = ['created_at', 'updated_at'] as const;

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
