/** `migrator migrate status` (SPEC §7): every migration's state, read by src/migrations/migration-status.ts. */
import { readMigrationStatusReport, type MigrationStatusReport } from '../migrations/migration-status.js';

/** Reads only (the bundle is not applied); a database that cannot be reached still gets the listing of the disk. */
export function migrationStatusCommand(url: () => string, migrationDir: string): Promise<MigrationStatusReport> {
  return readMigrationStatusReport(url, migrationDir);
}
