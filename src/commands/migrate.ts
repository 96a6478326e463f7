/** `migrator migrate up|down|to` (SPEC §7): the migrations applied or reverted. */
import type { Config } from '../base/config.js';
import type { Logger } from '../base/log.js';
import type { MigrateOptions, MigrateResult } from '../migrations/migrate.js';
import { openMigrationSession } from '../migrations/migration-session.js';

export type MigrateCommandOptions = Omit<MigrateOptions, 'session' | 'output' | 'hooks'> & {
  /** Where the migrations' own output goes (default: our stdout). */
  output?: (text: string) => void;
};

/**
 * psql starts, and connects, before the migrator loads: it is on the way to the first
 * migration while the rest of the migrator is read from disk.
 */
export async function migrateCommand(config: Config, log: Logger, options: MigrateCommandOptions): Promise<MigrateResult> {
  const { output, ...migrate } = options;
  const session = migrate.dryRun ? undefined : openMigrationSession(config, { url: migrate.url, vars: migrate.vars, output });
  const { runMigrations } = await import('../migrations/migrate.js');
  return runMigrations(config, log, { ...migrate, session });
}
