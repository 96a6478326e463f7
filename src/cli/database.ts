/** database: the project's database commands (SPEC §5). */
import './compile-cache.js'; // first: the modules below load with the cache on
import { ExitCode } from './exit-codes.js';
import { buildDatabase } from './database-program.js';
import { commandLine, runCli } from './run.js';

/** No arguments: usage on stderr and exit 1; `?` means help. */
function main(argv: string[]): void {
  if (argv.length === 0) {
    process.stderr.write('Usage: database [options] <command> [args]\nRun `database --help` for the commands.\n');
    process.exit(ExitCode.generic);
  }
  const args = argv[0] === '?' ? ['--help', ...argv.slice(1)] : argv;
  void runCli('database', buildDatabase, args);
}

main(commandLine());
