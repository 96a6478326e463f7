/**
 * `-i/--inherits TABLE`: tables the caller relies on, each of which must exist in the
 * database, else exit 5 (SPEC §5).
 *
 * When it is checked: commands that build a database (hydrate, deploy, check) check the
 * database they built, after building it; commands that use one (patch, test) check
 * their target before running anything.
 *
 * Names are parsed by PostgreSQL itself (`parse_ident`), so quoting works as in SQL:
 * `orders`, `shop.orders`, `"Shop"."Order Lines"`. A schema-qualified name must exist
 * in that schema; a bare name is looked up through the search_path first, then in any
 * schema except the system ones (pg_catalog, information_schema, pg_toast, pg_temp_*).
 * Tables, partitioned, foreign tables, views and materialized views count.
 */
import type pg from 'pg';
import { withClient } from '../pg/db.js';
import { MissingTableError, BadInputError } from '../base/errors.js';
import type { Logger } from '../base/log.js';

const FIND_TABLES = `
SELECT n.ord, n.name,
       EXISTS (
         SELECT 1
           FROM pg_catalog.pg_class c
           JOIN pg_catalog.pg_namespace s ON s.oid = c.relnamespace
          WHERE c.relkind IN ('r', 'p', 'f', 'v', 'm')
            AND c.relname = n.parts[array_length(n.parts, 1)]
            AND CASE array_length(n.parts, 1)
                  WHEN 2 THEN s.nspname = n.parts[1]
                  WHEN 1 THEN pg_catalog.pg_table_is_visible(c.oid)
                              OR (s.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
                                  AND s.nspname NOT LIKE 'pg_temp_%' AND s.nspname NOT LIKE 'pg_toast_temp_%')
                  ELSE false
                END
       ) AS present
  FROM (SELECT ord, name, pg_catalog.parse_ident(name) AS parts
          FROM unnest($1::text[]) WITH ORDINALITY AS t(name, ord)) AS n
 ORDER BY n.ord`;

/** The names of `tables` that do not exist in the database of `client`. */
export async function missingTables(client: pg.ClientBase, tables: readonly string[]): Promise<string[]> {
  if (tables.length === 0) return [];
  for (const name of tables) {
    if (name.trim() === '') throw new BadInputError('--inherits needs a table name, got an empty one');
  }
  let rows: Array<{ name: string; present: boolean }>;
  try {
    rows = (await client.query<{ name: string; present: boolean }>(FIND_TABLES, [tables])).rows;
  } catch (error) {
    // parse_ident rejects names that are not (schema-qualified) identifiers.
    throw new BadInputError(`--inherits: not a table name: ${(error as Error).message}`);
  }
  return rows.filter((row) => !row.present).map((row) => row.name);
}

/** Throws MissingTableError (exit 5) naming every missing table. */
export async function assertTablesExist(url: string, tables: readonly string[], log: Logger): Promise<void> {
  if (tables.length === 0) return;
  const missing = await withClient(url, (client) => missingTables(client, tables));
  if (missing.length > 0) {
    throw new MissingTableError(`table${missing.length === 1 ? '' : 's'} not found: ${missing.join(', ')} (required by --inherits)`);
  }
  log.debug(`--inherits: ${tables.join(', ')} exist`);
}
