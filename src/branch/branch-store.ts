/**
 * Where `database branch` keeps what it knows: on the databases themselves. Each branch's
 * database carries a comment (`COMMENT ON DATABASE`, kept in pg_shdescription) that names
 * its branch and when it was last used. The comment travels with the database through a
 * rename, and it changes in the same transaction as the renames of a switch: after a
 * crash, the names and the labels agree, whatever instant it hit (no journal to replay).
 *
 * The current branch's database is PG_DATABASE (the exported URL's name); every other
 * branch's database is `PG_DATABASE@BRANCH` (shortened with a hash past 63 bytes), so a
 * branch has one database, under one of two names.
 */
import crypto from 'node:crypto';
import type pg from 'pg';
import { BRANCH_LABEL_PREFIX } from '../cluster/branch-label.js';
import { quoteIdent, quoteLiteral } from '../pg/db.js';

const LABEL_PREFIX = BRANCH_LABEL_PREFIX;
const MAX_NAME_BYTES = 63;

export interface BranchLabel {
  branch: string;
  /** The branch it was copied from (first visit), if any. */
  parent: string | undefined;
  created: string;
  lastUsed: string;
  /** False while a first visit's migrations have not all run: the next switch to it finishes them. */
  migrated: boolean;
}

export interface BranchDatabase {
  database: string;
  label: BranchLabel;
  bytes: number;
}

export function labelText(label: BranchLabel): string {
  return `${LABEL_PREFIX}${JSON.stringify(label)}`;
}

export function parseLabel(comment: string | null | undefined): BranchLabel | undefined {
  if (!comment?.startsWith(LABEL_PREFIX)) return undefined;
  try {
    const value = JSON.parse(comment.slice(LABEL_PREFIX.length)) as Partial<BranchLabel>;
    if (typeof value.branch !== 'string') return undefined;
    return {
      branch: value.branch,
      parent: typeof value.parent === 'string' ? value.parent : undefined,
      created: String(value.created ?? ''),
      lastUsed: String(value.lastUsed ?? value.created ?? ''),
      migrated: value.migrated !== false,
    };
  } catch {
    return undefined;
  }
}

/** The prefix of every stored (not current) branch database of `current`. */
export function storedPrefix(current: string): string {
  return `${current}@`;
}

/** The name of `branch`'s database while it is not the current one. */
export function storedName(current: string, branch: string): string {
  const full = `${storedPrefix(current)}${branch}`;
  if (Buffer.byteLength(full) <= MAX_NAME_BYTES) return full;
  const hash = crypto.createHash('sha256').update(branch).digest('hex').slice(0, 8);
  let head = full;
  while (Buffer.byteLength(`${head}~${hash}`) > MAX_NAME_BYTES) head = head.slice(0, -1);
  return `${head}~${hash}`;
}

/** Every database of `current`'s family: `current` itself and the `current@…` ones, labelled or not. */
export async function readBranchDatabases(client: pg.ClientBase, current: string): Promise<Array<{ database: string; label: BranchLabel | undefined; bytes: number }>> {
  const { rows } = await client.query<{ datname: string; comment: string | null; bytes: string }>(
    `SELECT datname, shobj_description(oid, 'pg_database') AS comment, pg_database_size(oid)::text AS bytes
       FROM pg_database WHERE datname = $1 OR left(datname, length($2)) = $2 ORDER BY datname`,
    [current, storedPrefix(current)],
  );
  return rows.map((row) => ({ database: row.datname, label: parseLabel(row.comment), bytes: Number(row.bytes) }));
}

export function labelSql(database: string, label: BranchLabel): string {
  return `COMMENT ON DATABASE ${quoteIdent(database)} IS ${quoteLiteral(labelText(label))}`;
}

export async function writeLabel(client: pg.ClientBase, database: string, label: BranchLabel): Promise<void> {
  await client.query(labelSql(database, label));
}
