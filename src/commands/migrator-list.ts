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

/** `NAME`, or `NAME: missing down.sql` (or `NAME: missing up.sql, down.sql`); `raw`: names only. */
export function formatList(migrations: readonly ListedMigration[], raw = false): string {
  return migrations
    .map((migration) => (raw || migration.missing.length === 0 ? migration.name : `${migration.name}: missing ${migration.missing.join(', ')}`))
    .map((line) => `${line}\n`)
    .join('');
}
