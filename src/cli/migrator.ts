/** migrator: migrations up/down/to/status with drift protection, for any database (SPEC §7). */
import './compile-cache.js'; // first: the modules below load with the cache on
import { Command } from 'commander';
import { ExitCode } from './exit-codes.js';
import { MIGRATOR_USAGE, runMigrator } from './migrator-program.js';
import { standaloneSources } from './migrator-settings.js';
import { commandLine, runCli, type CliContext } from './run.js';

/**
 * runCli parses the command line with the program `build` returns; ours is a trampoline
 * that hands the arguments (less `--env-file`, which runCli took) to runMigrator, which
 * checks and reorders them before the real program parses them (so those checks get the
 * usual error report).
 */
function trampoline(ctx: CliContext, argv: readonly string[]): Command {
  return new Command('migrator')
    .exitOverride()
    .helpOption(false)
    .allowUnknownOption()
    .allowExcessArguments()
    .argument('[args...]')
    .action(() => runMigrator(ctx, standaloneSources(ctx.config), argv));
}

function main(argv: string[]): void {
  if (argv.length === 0) {
    process.stderr.write(MIGRATOR_USAGE);
    process.exit(ExitCode.generic);
  }
  void runCli('migrator', trampoline, argv);
}

main(commandLine());
