/** `database migrator ARGS…`: the migrator with this project's MIGRATION_DIR and target URL (SPEC §5). */
import type { Command } from 'commander';
import { requirePath } from '../../base/config.js';
import { BadInputError } from '../../base/errors.js';
import type { MigratorSources } from '../migrator-settings.js';
import type { CliContext } from '../run.js';
import { globalsOf } from './globals.js';

/**
 * The project's sources: the target URL of `database` (--url, $PG_URL_VAR, DB_URL, the
 * running cluster) and MIGRATION_DIR (default $DATABASE_DIR/migration). Both resolve
 * only when a migrator command needs them, so `database migrator list` needs no database.
 */
async function projectSources(ctx: CliContext, url: string | undefined): Promise<MigratorSources> {
  const { projectTargetUrl } = await import('../../commands/project-target.js');
  const migrationDir = ctx.config.migrationDir;
  return {
    name: 'database migrator',
    defaultUrl: () => projectTargetUrl(ctx.config, url, ctx.log),
    defaultMigrationDir: () => requirePath(migrationDir, 'MIGRATION_DIR'),
  };
}

export function registerMigratorCommands(program: Command, ctx: CliContext): void {
  program
    .command('migrator')
    .description("run the migrator (see `database migrator --help`) with this project's MIGRATION_DIR and target URL")
    .helpOption(false)
    .allowUnknownOption()
    .allowExcessArguments()
    .argument('[args...]', 'migrator command and arguments')
    .action(async (args: string[], _options: unknown, command: Command) => {
      const { MIGRATOR_USAGE, runMigrator } = await import('../migrator-program.js');
      if (args.length === 0) {
        process.stderr.write(MIGRATOR_USAGE.replace(/migrator/g, 'database migrator'));
        throw new BadInputError('database migrator needs a command: init, migrate, status, create or list');
      }
      await runMigrator(ctx, await projectSources(ctx, globalsOf(command).url), args);
    });
}
