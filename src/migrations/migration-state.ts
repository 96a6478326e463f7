/**
 * What a database says about its migrations: the rows of `hectic.migration`, read
 * through `pg` (bookkeeping is tool-owned SQL), and the lock that serialises runs.
 */
import type { ClientBase } from 'pg';
import type { AppliedMigration } from './migration-plan.js';

/**
 * Key of the session-level advisory lock a migrator run holds from before it reads the
 * history until its psql session has finished: the bytes of "hecticmg" as a bigint
 * (the bundle uses "hecticbd"). Advisory locks are per database, so runs on different
 * databases of one server do not wait for each other.
 */
export const MIGRATOR_LOCK_KEY = '7522528104227761511';

/** True when the bundle's bookkeeping table exists in this database. */
export async function hasMigrationTable(client: ClientBase): Promise<boolean> {
  const result = await client.query<{ present: boolean }>("SELECT to_regclass('hectic.migration') IS NOT NULL AS present");
  return Boolean(result.rows[0]?.present);
}

/**
 * The applied migrations in name order; none when the bundle was never applied. Reads
 * the baseline marker through the row's JSON so a database with an older bundle (no
 * such column yet; `migrate status` applies nothing) reads too.
 */
export async function readAppliedMigrations(client: ClientBase): Promise<AppliedMigration[]> {
  if (!(await hasMigrationTable(client))) return [];
  const result = await client.query<{ name: string; hash: string; applied_at: Date; baseline: boolean }>(
    `SELECT name::text AS name, hash::text AS hash, applied_at, coalesce((to_jsonb(m) ->> 'baseline')::boolean, false) AS baseline
       FROM hectic.migration AS m ORDER BY name::text COLLATE "C"`,
  );
  return result.rows.map((row) => ({ name: row.name, hash: row.hash.toLowerCase(), appliedAt: row.applied_at, baseline: row.baseline }));
}

/**
 * Takes the migrator lock for this session; logs once when another run holds it, then
 * waits. Released when the connection closes.
 */
export async function takeMigratorLock(client: ClientBase, onWait: () => void): Promise<void> {
  const attempt = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1::bigint) AS locked', [MIGRATOR_LOCK_KEY]);
  if (attempt.rows[0]?.locked) return;
  onWait();
  await client.query('SELECT pg_advisory_lock($1::bigint)', [MIGRATOR_LOCK_KEY]);
}
