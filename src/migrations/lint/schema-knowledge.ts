/** What lint knows of a database before its pending migrations: column types and enums. */
import type { ClientBase } from 'pg';
import { parseTypeText } from '../../pg/type-coercion.js';
import { emptyKnowledge, type SchemaKnowledge } from './walk-state.js';

const USER_RELATIONS = "n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_toast%'";
const COLUMNS = `SELECT c.relname AS "table", a.attname AS "column", pg_catalog.format_type(a.atttypid, a.atttypmod) AS type
FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_class c ON c.oid = a.attrelid JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped AND ${USER_RELATIONS}`;
const ENUMS = `SELECT t.typname AS type, array_agg(e.enumlabel::text ORDER BY e.enumsortorder) AS "values"
FROM pg_catalog.pg_enum e JOIN pg_catalog.pg_type t ON t.oid = e.enumtypid JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
WHERE ${USER_RELATIONS} GROUP BY t.typname`;

/** The column types and enums of a database, as lint's starting knowledge. */
export async function readKnowledge(client: ClientBase): Promise<SchemaKnowledge> {
  const knowledge = emptyKnowledge();
  const columns = await client.query<{ table: string; column: string; type: string }>(COLUMNS);
  for (const row of columns.rows) knowledge.columns.set(`${row.table}.${row.column}`, parseTypeText(row.type));
  const enums = await client.query<{ type: string; values: string[] }>(ENUMS);
  for (const row of enums.rows) knowledge.enums.set(row.type, row.values);
  return knowledge;
}
