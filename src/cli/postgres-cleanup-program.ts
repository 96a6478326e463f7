/** postgres-cleanup: stop the project's cluster; removes nothing (SPEC §4). */
import { Command } from 'commander';
import { configureCommand, type CliContext } from './run.js';
import { ENV_FILE_HELP, ENV_FILE_OPTION } from './options.js';
import { VERSION } from './version.js';

export function buildPostgresCleanup(ctx: CliContext): Command {
  return configureCommand(new Command('postgres-cleanup'), 'postgres-cleanup')
    .description('Stop the project\'s PostgreSQL cluster (fast, then immediate). Removes nothing; `database cleanup` removes the folder.')
    .version(VERSION, '-V, --version')
    .option(`${ENV_FILE_OPTION} <path>`, ENV_FILE_HELP)
    .action(async () => {
      const { stopCommand } = await import('../commands/stop.js');
      const result = await stopCommand(ctx.config);
      if (result === 'stopped') ctx.log.info('PostgreSQL stopped');
    });
}
