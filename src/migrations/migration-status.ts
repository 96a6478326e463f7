/**
 * The state of every migration (SPEC §7 `migrate status`), disk and database merged:
 *   applied  recorded, and the up file still hashes the same
 *   changed  recorded, but the up file changed since
 *   pending  on disk, not recorded
 *   missing  recorded, but its folder is gone
 * A pending migration that sorts before applied ones (a merge brought it in) is marked
 * out of order; an applied one recorded as the baseline of a build from the sources
 * (it never ran) is marked baseline.
 */
import fs from 'node:fs';
import { isDbToolError, type DbToolError } from '../base/errors.js';
import { connect, withClient } from '../pg/db.js';
import { readMigrations } from './migration-files.js';
import { findOutOfOrder, type AppliedMigration } from './migration-plan.js';
import { readAppliedMigrations } from './migration-state.js';

export const MIGRATION_STATES = ['applied', 'pending', 'changed', 'missing'] as const;
export type MigrationState = (typeof MIGRATION_STATES)[number];

export interface MigrationStatus {
  name: string;
  state: MigrationState;
  /** When it was applied (ISO 8601, UTC), null when pending. */
  appliedAt: string | null;
  /** sha256 of the up file on disk; null when the folder is missing. */
  hash: string | null;
  /** sha256 recorded when it was applied; null when pending. */
  appliedHash: string | null;
  /**
   * Present (true) only for a migration recorded as a baseline by a build from the
   * sources (hydrate/deploy): it did not run. Absent otherwise, so the shape of the usual
   * entries stays as it was.
   */
  baseline?: true;
  /**
   * Present (true) only for a pending migration that sorts before applied ones (merged
   * out of order): `migrate up` refuses it unless --allow-out-of-order.
   */
  outOfOrder?: true;
}

function baselineMark(row: AppliedMigration): { baseline?: true } {
  return row.baseline ? { baseline: true } : {};
}

/** Merges disk and database, in name order. */
export function migrationStatuses(
  disk: ReadonlyArray<{ name: string; hash: string }>,
  applied: readonly AppliedMigration[],
): MigrationStatus[] {
  const recorded = new Map(applied.map((migration) => [migration.name, migration]));
  const outOfOrder = new Set(findOutOfOrder(disk, applied).map((migration) => migration.name));
  const entries: MigrationStatus[] = disk.map((source) => {
    const row = recorded.get(source.name);
    if (!row) {
      const mark: { outOfOrder?: true } = outOfOrder.has(source.name) ? { outOfOrder: true } : {};
      return { name: source.name, state: 'pending', appliedAt: null, hash: source.hash, appliedHash: null, ...mark };
    }
    return {
      name: source.name,
      state: row.hash.toLowerCase() === source.hash ? 'applied' : 'changed',
      appliedAt: row.appliedAt.toISOString(),
      hash: source.hash,
      appliedHash: row.hash.toLowerCase(),
      ...baselineMark(row),
    };
  });
  const onDisk = new Set(disk.map((source) => source.name));
  for (const row of applied) {
    if (!onDisk.has(row.name)) {
      entries.push({ name: row.name, state: 'missing', appliedAt: row.appliedAt.toISOString(), hash: null, appliedHash: row.hash.toLowerCase(), ...baselineMark(row) });
    }
  }
  return entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** Applied and pending migration names, as `database status` shows them. */
export interface MigrationSummary {
  applied: string[];
  pending: string[];
  /** The applied ones recorded as a baseline by a build from the sources; absent when none. */
  baseline?: string[];
}

/**
 * Applied/pending migration names of the database at `url` against `migrationDir`
 * (none on disk when the folder is unset or does not exist).
 */
export async function readMigrationSummary(url: string, migrationDir: string | undefined): Promise<MigrationSummary> {
  const disk = migrationDir && fs.existsSync(migrationDir) ? readMigrations(migrationDir) : [];
  const applied = await withClient(url, readAppliedMigrations);
  const appliedNames = new Set(applied.map((migration) => migration.name));
  const baseline = applied.filter((migration) => migration.baseline).map((migration) => migration.name);
  return {
    applied: applied.map((migration) => migration.name),
    pending: disk.filter((migration) => !appliedNames.has(migration.name)).map((migration) => migration.name),
    ...(baseline.length > 0 ? { baseline } : {}),
  };
}

/** A migration on disk whose state is unknown: the database could not be reached. */
export interface UnknownMigrationStatus extends Omit<MigrationStatus, 'state'> {
  state: 'unknown';
}

export interface MigrationStatusReport {
  migrationDir: string;
  migrations: Array<MigrationStatus | UnknownMigrationStatus>;
  /**
   * Why the database could not be reached (no URL, no running cluster, connection
   * refused). The migrations are then those on disk, in state `unknown`.
   */
  unreachable?: DbToolError;
}

/**
 * Every migration's state; reads only (the bundle is not applied). A database that
 * cannot be reached still gets the listing of the disk, in state `unknown`.
 */
export async function readMigrationStatusReport(url: () => string, migrationDir: string): Promise<MigrationStatusReport> {
  const disk = readMigrations(migrationDir);
  let client;
  try {
    client = await connect(url());
  } catch (error) {
    if (!isDbToolError(error)) throw error;
    const migrations = disk.map((source): UnknownMigrationStatus => ({ name: source.name, state: 'unknown', appliedAt: null, hash: source.hash, appliedHash: null }));
    return { migrationDir, migrations, unreachable: error };
  }
  try {
    return { migrationDir, migrations: migrationStatuses(disk, await readAppliedMigrations(client)) };
  } finally {
    await client.end().catch(() => undefined);
  }
}
