import { withClient } from '../pg/db.js';
import { readMigrations } from '../migrations/migration-files.js';
import { readAppliedMigrations } from '../migrations/migration-state.js';
import { migrationStatuses, type MigrationStatus } from '../migrations/migration-status.js';

export interface MigrationStatusReport {
  migrationDir: string;
  migrations: MigrationStatus[];
}

/** `migrator migrate status`: every migration's state; reads only (the bundle is not applied). */
export async function migrationStatusCommand(url: string, migrationDir: string): Promise<MigrationStatusReport> {
  const disk = readMigrations(migrationDir);
  const applied = await withClient(url, readAppliedMigrations);
  return { migrationDir, migrations: migrationStatuses(disk, applied) };
}
