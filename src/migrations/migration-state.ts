/**
 * What a database says about its migrations: the rows of `hectic.migration` and the
 * lock that serialises runs, asked through `pg` (SPEC §2).
 */
import type { ClientBase } from 'pg';
import { queryIf } from '../pg/db.js';
import type { AppliedMigration } from './migration-plan.js';

/**
 * Key of the session-level advisory lock a migrator run's pg connection holds from
 * before it reads the history until its psql session has finished: the bytes of
 * "hecticmg" as a bigint (the bundle uses "hecticbd"). Advisory locks are per database,
 * so runs on different databases of one server do not wait for each other.
 */
export const MIGRATOR_LOCK_KEY = '7522528104227761511';

const HISTORY = `SELECT name::text AS name, hash::text AS hash, applied_at, coalesce((to_jsonb(m) ->> 'baseline')::boolean, false) AS baseline
                   FROM hectic.migration AS m ORDER BY name::text COLLATE "C"`;

/**
 * The applied migrations in name order; none when the bundle was never applied. Reads
 * the baseline marker through the row's JSON so a database with an older bundle (no
 * such column yet; `migrate status` applies nothing) reads too.
 */
export async function readAppliedMigrations(client: ClientBase, options: { tableKnown?: boolean } = {}): Promise<AppliedMigration[]> {
  type Row = { name: string; hash: string; applied_at: Date; baseline: boolean };
  const result = options.tableKnown ? await client.query<Row>(HISTORY) : await queryIf<Row>(client, "to_regclass('hectic.migration') IS NOT NULL", HISTORY);
  return (result?.rows ?? []).map((row) => ({ name: row.name, hash: row.hash.toLowerCase(), appliedAt: row.applied_at, baseline: row.baseline }));
}

/**
 * Takes the migrator lock for this session; logs once when another run holds it, then
 * waits. Resolves true when it had to wait. Released when the connection closes.
 */
export async function takeMigratorLock(client: ClientBase, onWait: () => void): Promise<boolean> {
  const attempt = await client.query<{ locked: boolean }>(`SELECT pg_try_advisory_lock(${MIGRATOR_LOCK_KEY}) AS locked`);
  if (attempt.rows[0]?.locked) return false;
  onWait();
  await client.query(`SELECT pg_advisory_lock(${MIGRATOR_LOCK_KEY})::text AS locked`);
  return true;
}
