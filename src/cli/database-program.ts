/**
 * The `database` program: the project's database commands (SPEC §5). Each command's
 * action imports its implementation when it runs: loading all of them cost every run
 * about 60 ms of start-up, on the way to a test file or a migration (SPEC §13).
 */
import { Command } from 'commander';
import { registerClusterCommands } from './database/cluster-commands.js';
import { registerDataCommands } from './database/data-commands.js';
import { registerDeployCommands } from './database/deploy-commands.js';
import { registerMigratorCommands } from './database/migrator-commands.js';
import { registerScaffoldCommand } from './database/scaffold-command.js';
import { registerCompletionCommand } from './database/completion-command.js';
import { registerBranchCommands } from './database/branch-commands.js';
import { collect, ENV_FILE_HELP, ENV_FILE_OPTION } from './options.js';
import { configureCommand, type CliContext } from './run.js';
import { VERSION } from './version.js';

const ENVIRONMENT_HELP = `
Environment (all variables: see the README):
  LOCAL_DIR       the project root: db/src/entrypoint.sql, db/migration/, db/test/,
                  test-data.sql; the cluster lives in $LOCAL_DIR/focus/postgresql
                  (PG_WORKING_DIR). Unset: the nearest folder at or above the current
                  one holding db/ or focus/. Start a new project with \`database scaffold\`.
  PGURL, DB_URL   the target database of hydrate, patch, test, migrator… (else the
                  running cluster of this project)
  --env-file F    reads such variables from a dotenv file
`;

export function buildDatabase(ctx: CliContext): Command {
  const program = configureCommand(new Command('database'), 'database')
    .description('A private PostgreSQL cluster per project, and the commands around it.')
    .version(VERSION, '--version')
    .option('-u, --url <url>', 'database URL for this run (else $PG_URL_VAR, DB_URL, the running cluster)')
    .option('-i, --inherits <table>', 'a table that must exist (repeatable)', collect, [] as string[])
    .option('--allow-remote', 'let destructive commands change a non-local database')
    .option(`${ENV_FILE_OPTION} <path>`, ENV_FILE_HELP)
    .helpCommand('help [command]', 'show help for a command')
    .showSuggestionAfterError(true)
    .addHelpText('after', ENVIRONMENT_HELP);
  registerScaffoldCommand(program, ctx);
  registerClusterCommands(program, ctx);
  registerDeployCommands(program, ctx);
  registerDataCommands(program, ctx);
  registerMigratorCommands(program, ctx);
  registerBranchCommands(program, ctx);
  registerCompletionCommand(program, ctx);
  return program;
}
