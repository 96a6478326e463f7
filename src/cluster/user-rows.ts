/**
 * Would a wipe lose rows a user made? Asked of the running server before a fresh start
 * replaces it (SPEC §4, turn 4): the rows of every table outside the tool's own schemas
 * (hectic, pg_cron's cron), in every database, summed up in a fingerprint. A deploy
 * records the fingerprint of what it built (`recordBuilt`), so a cluster nobody changed
 * since is rebuilt by the next deploy and loses nothing; one whose rows changed (or that
 * no build recorded) would.
 *
 * The record lives beside the clusters in the working dir, keyed by the data folder's
 * inode, which a rename (data → data.previous and back) keeps.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import { withClient } from '../pg/db.js';
import { BUILT_FILE } from './cluster-layout.js';
import { readToolJson, writeToolFile } from './tool-files.js';

/** Schemas whose rows the tool (or an extension it preloads) writes itself. */
const TOOL_SCHEMAS = ['hectic', 'cron'];

export interface UserRows {
  /** Rows in user tables, all databases together. */
  rows: number;
  /** Tables holding them, `database:schema.table`, at most a few for messages. */
  tables: string[];
  /** sha256 over every table's row count and content hash: changes when any row does. */
  fingerprint: string;
}

// `pg\\_%`: schemas pg_toast, pg_temp_N… (the backslash escapes LIKE's `_`).
const TABLES_SQL = `
  SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname) AS name
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
   WHERE c.relkind = 'r' AND n.nspname <> ALL ($1::text[])
     AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'
   ORDER BY 1`;

/** One database's user tables: name, row count and a hash of their content. */
async function databaseRows(url: string, database: string): Promise<Array<{ name: string; rows: number; hash: string }>> {
  return withClient(url, async (client) => {
    // A session holding a lock on a table must not make a fresh start wait for it.
    await client.query("SET lock_timeout = '2s'");
    const tables = (await client.query<{ name: string }>(TABLES_SQL, [TOOL_SCHEMAS])).rows.map((row) => row.name);
    if (tables.length === 0) return [];
    // ONLY: an inheriting table's rows count once, as its own (hectic.created_at's children).
    const sql = tables
      .map((name, i) => `SELECT ${i} AS i, count(*)::text AS rows, coalesce(sum(hashtextextended(t::text, 0)), 0)::text AS hash FROM ONLY ${name} t`)
      .join(' UNION ALL ');
    const result = await client.query<{ i: number; rows: string; hash: string }>(sql);
    return result.rows.map((row) => ({ name: `${database}:${tables[row.i]}`, rows: Number(row.rows), hash: row.hash }));
  }, { database });
}

/** The user rows of a running cluster (`url` reaches any of its databases). */
export async function readUserRows(url: string): Promise<UserRows> {
  const databases = await withClient(url, async (client) =>
    (await client.query<{ datname: string }>('SELECT datname FROM pg_database WHERE datallowconn AND NOT datistemplate ORDER BY 1')).rows.map((row) => row.datname),
  { database: 'postgres' });
  const tables = (await Promise.all(databases.map((database) => databaseRows(url, database)))).flat();
  const hash = crypto.createHash('sha256');
  for (const table of tables) hash.update(`${table.name}\t${table.rows}\t${table.hash}\n`);
  const holding = tables.filter((table) => table.rows > 0);
  return {
    rows: holding.reduce((sum, table) => sum + table.rows, 0),
    tables: holding.map((table) => table.name),
    fingerprint: hash.digest('hex'),
  };
}

type BuiltRecord = Record<string, string>;

/** The record of a data folder a deploy is still building (or was killed while building). */
export const BUILDING = 'building';

function readBuilt(workingDir: string): BuiltRecord {
  const record: BuiltRecord = {};
  for (const [key, value] of Object.entries(readToolJson(workingDir, BUILT_FILE))) if (typeof value === 'string') record[key] = value;
  return record;
}

function inodeOf(dir: string): string | undefined {
  const stat = fs.statSync(dir, { throwIfNoEntry: false });
  return stat ? String(stat.ino) : undefined;
}

/**
 * Records what the data folder holds as built by the tool: the fingerprint of the rows a
 * deploy left (also one that failed half-way), or `'building'` while a deploy is under
 * way. Entries of folders that are gone are dropped.
 */
export function recordBuilt(workingDir: string, dataDir: string, state: string, keep: readonly string[] = []): void {
  const ino = inodeOf(dataDir);
  if (!ino) return;
  const live = new Set([ino, ...keep.map(inodeOf).filter((value): value is string => value !== undefined)]);
  const record = Object.fromEntries(Object.entries(readBuilt(workingDir)).filter(([key]) => live.has(key)));
  record[ino] = state;
  writeToolFile(workingDir, BUILT_FILE, `${JSON.stringify(record)}\n`);
}

/** What the record says about the data folder: a fingerprint, 'building', or nothing. */
export function builtState(workingDir: string, dataDir: string): string | undefined {
  const ino = inodeOf(dataDir);
  return ino ? readBuilt(workingDir)[ino] : undefined;
}
