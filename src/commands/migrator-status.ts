import { connect } from '../pg/db.js';
import { isDbToolError, type DbToolError } from '../base/errors.js';
import { readMigrations } from '../migrations/migration-files.js';
import { readAppliedMigrations } from '../migrations/migration-state.js';
import { migrationStatuses, type MigrationStatus } from '../migrations/migration-status.js';

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
 * `migrator migrate status`: every migration's state; reads only (the bundle is not
 * applied). A database that cannot be reached still gets the listing of the disk.
 */
export async function migrationStatusCommand(url: () => string, migrationDir: string): Promise<MigrationStatusReport> {
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
