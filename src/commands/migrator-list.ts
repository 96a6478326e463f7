import { readMigrationFolders } from '../migrations/migration-files.js';

export interface ListedMigration {
  name: string;
  /** Labels of missing files: `up.sql`, `down.sql`, `up/entrypoint.sql`… */
  missing: string[];
}

/** `migrator list`: the migrations on disk, in order, with their missing files. */
export function listMigrationsCommand(migrationDir: string): ListedMigration[] {
  return readMigrationFolders(migrationDir).map((folder) => ({
    name: folder.name,
    missing: [folder.upFile ? null : folder.upLabel, folder.downFile ? null : folder.downLabel].filter((label): label is string => label !== null),
  }));
}
