/**
 * What the migration writer needs from a live database beyond pg_dump's per-object
 * text: the parts of a table pg_dump folds into one CREATE TABLE (columns, inline CHECK
 * constraints, storage options), enum labels, composite attributes, domain constraints,
 * which relation each index belongs to, and which views depend on what (to drop and
 * recreate them around a change). Keys match pg_dump's object keys (schema-dump.ts).
 */
import type { ClientBase } from 'pg';

export interface Column {
  name: string;
  /** format_type, schema-qualified (read with an empty search_path, as pg_dump does). */
  type: string;
  collation: string | null;
  notNull: boolean;
  default: string | null;
  /** '' | 'a' (ALWAYS) | 'd' (BY DEFAULT). */
  identity: string;
  /** The expression of a GENERATED ALWAYS AS (…) STORED column. */
  generated: string | null;
  /** ALTER COLUMN … SET STATISTICS target; null (or absent) for the default. */
  statistics?: number | null;
}

export interface CheckConstraint {
  name: string;
  definition: string;
}

export interface TableInfo {
  /** `schema.name` as in pg_dump keys (unquoted). */
  name: string;
  /** The same, quoted for SQL. */
  sqlName: string;
  kind: 'r' | 'p' | 'v' | 'm';
  /** Columns defined by this relation itself (inherited and partition columns are not). */
  columns: Column[];
  /** Every column in position order (views too): a view's replaceability. */
  allColumns: Array<Pick<Column, 'name' | 'type'>>;
  checks: CheckConstraint[];
  options: string[];
  /** pg_class.relpersistence: 'p' permanent, 'u' unlogged (absent: not read). */
  persistence?: string;
  rowEstimate: number;
  bytes: number;
}

export interface DomainInfo {
  name: string;
  sqlName: string;
  constraints: CheckConstraint[];
}

export interface CatalogInfo {
  tables: Map<string, TableInfo>;
  enums: Map<string, string[]>;
  composites: Map<string, Array<Pick<Column, 'name' | 'type'>>>;
  domains: Map<string, DomainInfo>;
  /** Index key (`INDEX schema.name`) → its relation (`schema.name`). */
  indexTable: Map<string, string>;
  /**
   * Object key (a dump key, or `COLUMN schema.table.column`) → keys of the views and
   * materialized views that use it directly.
   */
  dependants: Map<string, string[]>;
}

const USER_SCHEMAS = `n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp%'`;
const NOT_EXTENSION = (classId: string, oid: string): string =>
  `NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend e WHERE e.classid = '${classId}'::regclass AND e.objid = ${oid} AND e.deptype = 'e')`;

const RELATIONS = `
SELECT c.oid, n.nspname || '.' || c.relname AS name, quote_ident(n.nspname) || '.' || quote_ident(c.relname) AS sql_name,
       c.relkind::text AS kind, c.relpersistence::text AS persistence, coalesce(c.reloptions, '{}') AS options, greatest(c.reltuples, 0)::float8 AS rows,
       pg_catalog.pg_table_size(c.oid)::float8 AS bytes
FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p', 'v', 'm') AND ${USER_SCHEMAS} AND ${NOT_EXTENSION('pg_class', 'c.oid')}`;

const COLUMNS = `
SELECT a.attrelid AS oid, a.attname AS name, pg_catalog.format_type(a.atttypid, a.atttypmod) AS type,
       CASE WHEN a.attcollation <> t.typcollation AND a.attcollation <> 0
            THEN quote_ident(cn.nspname) || '.' || quote_ident(co.collname) END AS collation,
       a.attnotnull AS not_null, a.attidentity::text AS identity, a.attgenerated::text AS generated, a.attislocal AS local,
       CASE WHEN a.attstattarget >= 0 THEN a.attstattarget::int END AS statistics,
       pg_catalog.pg_get_expr(ad.adbin, ad.adrelid) AS expr
FROM pg_catalog.pg_attribute a
JOIN pg_catalog.pg_class c ON c.oid = a.attrelid JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
JOIN pg_catalog.pg_type t ON t.oid = a.atttypid
LEFT JOIN pg_catalog.pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
LEFT JOIN pg_catalog.pg_collation co ON co.oid = a.attcollation LEFT JOIN pg_catalog.pg_namespace cn ON cn.oid = co.collnamespace
WHERE a.attnum > 0 AND NOT a.attisdropped AND c.relkind IN ('r', 'p', 'v', 'm') AND ${USER_SCHEMAS}
ORDER BY a.attrelid, a.attnum`;

const CHECKS = `
SELECT co.conrelid AS oid, co.contypid AS type_oid, co.conname AS name, pg_catalog.pg_get_constraintdef(co.oid) AS definition
FROM pg_catalog.pg_constraint co
WHERE co.contype = 'c' AND co.conislocal AND co.convalidated
ORDER BY co.conname`;

const TYPES = `
SELECT t.oid, n.nspname || '.' || t.typname AS name, quote_ident(n.nspname) || '.' || quote_ident(t.typname) AS sql_name, t.typtype::text AS kind,
       CASE t.typtype WHEN 'e' THEN ARRAY(SELECT e.enumlabel::text FROM pg_catalog.pg_enum e WHERE e.enumtypid = t.oid ORDER BY e.enumsortorder) END AS labels,
       CASE t.typtype WHEN 'c' THEN ARRAY(SELECT a.attname::text || ' ' || pg_catalog.format_type(a.atttypid, a.atttypmod) FROM pg_catalog.pg_attribute a
                                          WHERE a.attrelid = t.typrelid AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum) END AS attributes
FROM pg_catalog.pg_type t JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
WHERE (t.typtype IN ('e', 'd') OR (t.typtype = 'c' AND (SELECT relkind FROM pg_catalog.pg_class WHERE oid = t.typrelid) = 'c'))
  AND ${USER_SCHEMAS} AND ${NOT_EXTENSION('pg_type', 't.oid')}`;

const INDEXES = `
SELECT 'INDEX ' || n.nspname || '.' || ic.relname AS key, tn.nspname || '.' || tc.relname AS table_name
FROM pg_catalog.pg_index i
JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid JOIN pg_catalog.pg_namespace n ON n.oid = ic.relnamespace
JOIN pg_catalog.pg_class tc ON tc.oid = i.indrelid JOIN pg_catalog.pg_namespace tn ON tn.oid = tc.relnamespace
WHERE ${USER_SCHEMAS}`;

/** What each view's rewrite rule references: relations, columns, functions, types. */
const VIEW_DEPENDENCIES = `
SELECT DISTINCT
  CASE v.relkind WHEN 'm' THEN 'MATERIALIZED VIEW ' ELSE 'VIEW ' END || vn.nspname || '.' || v.relname AS dependant,
  CASE
    WHEN d.refclassid = 'pg_catalog.pg_class'::regclass THEN
      CASE rc.relkind WHEN 'v' THEN 'VIEW ' WHEN 'm' THEN 'MATERIALIZED VIEW ' WHEN 'S' THEN 'SEQUENCE ' ELSE 'TABLE ' END
      || rn.nspname || '.' || rc.relname
    WHEN d.refclassid = 'pg_catalog.pg_proc'::regclass THEN
      (SELECT CASE p.prokind WHEN 'p' THEN 'PROCEDURE ' WHEN 'a' THEN 'AGGREGATE ' ELSE 'FUNCTION ' END
              || pn.nspname || '.' || p.proname || '(' || pg_catalog.oidvectortypes(p.proargtypes) || ')'
       FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace pn ON pn.oid = p.pronamespace WHERE p.oid = d.refobjid)
    WHEN d.refclassid = 'pg_catalog.pg_type'::regclass THEN
      (SELECT CASE t.typtype WHEN 'd' THEN 'DOMAIN ' ELSE 'TYPE ' END || tn.nspname || '.' || t.typname
       FROM pg_catalog.pg_type t JOIN pg_catalog.pg_namespace tn ON tn.oid = t.typnamespace WHERE t.oid = d.refobjid)
  END AS referenced,
  CASE WHEN d.refclassid = 'pg_catalog.pg_class'::regclass AND d.refobjsubid > 0 THEN 'COLUMN ' || rn.nspname || '.' || rc.relname || '.' ||
    (SELECT attname FROM pg_catalog.pg_attribute WHERE attrelid = d.refobjid AND attnum = d.refobjsubid) END AS referenced_column
FROM pg_catalog.pg_depend d
JOIN pg_catalog.pg_rewrite r ON d.classid = 'pg_catalog.pg_rewrite'::regclass AND d.objid = r.oid
JOIN pg_catalog.pg_class v ON v.oid = r.ev_class JOIN pg_catalog.pg_namespace vn ON vn.oid = v.relnamespace
LEFT JOIN pg_catalog.pg_class rc ON d.refclassid = 'pg_catalog.pg_class'::regclass AND rc.oid = d.refobjid
LEFT JOIN pg_catalog.pg_namespace rn ON rn.oid = rc.relnamespace
WHERE d.deptype = 'n' AND d.refobjid <> r.ev_class AND ${USER_SCHEMAS.replace(/n\.nspname/g, 'vn.nspname')}`;

interface RelationRow {
  oid: number;
  name: string;
  sql_name: string;
  kind: TableInfo['kind'];
  persistence: string;
  options: string[];
  rows: number;
  bytes: number;
}

interface ColumnRow {
  oid: number;
  name: string;
  type: string;
  collation: string | null;
  not_null: boolean;
  identity: string;
  generated: string;
  local: boolean;
  expr: string | null;
  statistics: number | null;
}

function splitAttribute(text: string): Pick<Column, 'name' | 'type'> {
  const space = text.indexOf(' ');
  return { name: text.slice(0, space), type: text.slice(space + 1) };
}

interface TypeRow {
  oid: number;
  name: string;
  sql_name: string;
  kind: string;
  labels: string[] | null;
  attributes: string[] | null;
}

/** Reads the catalog of the database `client` is connected to (an empty search_path, as pg_dump). */
export async function readCatalog(client: ClientBase): Promise<CatalogInfo> {
  await client.query("SELECT pg_catalog.set_config('search_path', '', false)");
  const [relations, columns, checks, types, indexes, dependencies] = [
    (await client.query<RelationRow>(RELATIONS)).rows,
    (await client.query<ColumnRow>(COLUMNS)).rows,
    (await client.query<{ oid: number; type_oid: number; name: string; definition: string }>(CHECKS)).rows,
    (await client.query<TypeRow>(TYPES)).rows,
    (await client.query<{ key: string; table_name: string }>(INDEXES)).rows,
    (await client.query<{ dependant: string; referenced: string | null; referenced_column: string | null }>(VIEW_DEPENDENCIES)).rows,
  ];
  const { tables, byOid } = tablesOf(relations, columns);
  const { enums, composites, domains, domainByOid } = typesOf(types);
  for (const row of checks) {
    byOid.get(Number(row.oid))?.checks.push({ name: row.name, definition: row.definition });
    domainByOid.get(Number(row.type_oid))?.constraints.push({ name: row.name, definition: row.definition });
  }
  return {
    tables,
    enums,
    composites,
    domains,
    indexTable: new Map(indexes.map((row) => [row.key, row.table_name])),
    dependants: dependantsOf(dependencies),
  };
}

/** The tables with their columns, by name and by oid. */
function tablesOf(relations: readonly RelationRow[], columns: readonly ColumnRow[]): { tables: Map<string, TableInfo>; byOid: Map<number, TableInfo> } {
  const tables = new Map<string, TableInfo>();
  const byOid = new Map<number, TableInfo>();
  for (const row of relations) {
    const table: TableInfo = {
      name: row.name,
      sqlName: row.sql_name,
      kind: row.kind,
      columns: [],
      allColumns: [],
      checks: [],
      options: row.options,
      persistence: row.persistence,
      rowEstimate: row.rows,
      bytes: row.bytes,
    };
    tables.set(row.name, table);
    byOid.set(Number(row.oid), table);
  }
  for (const row of columns) {
    const table = byOid.get(Number(row.oid));
    if (!table) continue;
    table.allColumns.push({ name: row.name, type: row.type });
    if (!row.local) continue;
    table.columns.push({
      name: row.name,
      type: row.type,
      collation: row.collation,
      notNull: row.not_null,
      identity: row.identity,
      default: row.generated === '' ? row.expr : null,
      generated: row.generated === '' ? null : row.expr,
      statistics: row.statistics,
    });
  }
  return { tables, byOid };
}

/** Enums, composite types and domains (these also by oid, for their constraints). */
function typesOf(types: readonly TypeRow[]): Pick<CatalogInfo, 'enums' | 'composites' | 'domains'> & { domainByOid: Map<number, DomainInfo> } {
  const domains = new Map<string, DomainInfo>();
  const domainByOid = new Map<number, DomainInfo>();
  const enums = new Map<string, string[]>();
  const composites = new Map<string, Array<Pick<Column, 'name' | 'type'>>>();
  for (const row of types) {
    if (row.kind === 'e') enums.set(row.name, row.labels ?? []);
    else if (row.kind === 'c') composites.set(row.name, (row.attributes ?? []).map(splitAttribute));
    else {
      const domain: DomainInfo = { name: row.name, sqlName: row.sql_name, constraints: [] };
      domains.set(row.name, domain);
      domainByOid.set(Number(row.oid), domain);
    }
  }
  return { enums, composites, domains, domainByOid };
}

/** A view depends on the columns it uses: dropping or retyping one, or the whole relation, touches it. */
function dependantsOf(dependencies: readonly { dependant: string; referenced: string | null; referenced_column: string | null }[]): Map<string, string[]> {
  const dependants = new Map<string, string[]>();
  for (const row of dependencies) {
    for (const referenced of [row.referenced, row.referenced_column]) {
      if (!referenced) continue;
      const list = dependants.get(referenced) ?? [];
      if (!list.includes(row.dependant)) list.push(row.dependant);
      dependants.set(referenced, list);
    }
  }
  return dependants;
}
