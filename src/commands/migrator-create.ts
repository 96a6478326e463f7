/** `migrator create [--name NAME]` (SPEC §7): a new migration folder with up.sql and down.sql. */
import { createMigration, type CreatedMigration, type CreateMigrationOptions } from '../migrations/migration-create.js';

export function createMigrationCommand(migrationDir: string, options: Pick<CreateMigrationOptions, 'name' | 'dryRun'>): CreatedMigration {
  return createMigration(migrationDir, options);
}
