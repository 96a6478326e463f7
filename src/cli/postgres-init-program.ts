/** postgres-init: start the project's cluster (SPEC §4). bin/postgres-init wraps this for sourcing. */
import { Command } from 'commander';
import { configureCommand, type CliContext } from './run.js';
import { ENV_FILE_HELP, ENV_FILE_OPTION } from './options.js';
import { VERSION } from './version.js';
import { formatExports } from './render/exports.js';

export function buildPostgresInit(ctx: CliContext): Command {
  return configureCommand(new Command('postgres-init'), 'postgres-init')
    .description('Start the project\'s private PostgreSQL cluster (fresh, or kept with PG_REUSE) and create PG_DATABASE.')
    .version(VERSION, '-V, --version')
    .option('--env', "print `export NAME='value'` lines on stdout, for eval")
    .option('--reuse', 'keep an existing cluster (same as PG_REUSE=1)')
    .option(`${ENV_FILE_OPTION} <path>`, ENV_FILE_HELP)
    .action(async (options: { env?: boolean; reuse?: boolean }) => {
      const { initCommand } = await import('../commands/init.js');
      const connection = await initCommand(ctx.config, ctx.log, { reuse: options.reuse || ctx.config.reuse });
      if (options.env) ctx.out(formatExports(connection));
      ctx.log.info(`PostgreSQL ready: ${connection.url}`);
    });
}
