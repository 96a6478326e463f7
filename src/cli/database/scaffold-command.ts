/** `database scaffold`: a new project's layout under LOCAL_DIR (SPEC §5). */
import path from 'node:path';
import type { Command } from 'commander';
import type { CliContext } from '../run.js';

const NEXT_STEPS = `next steps (README: "In your own project"):
  database check                     build it all in a throw-away cluster
  database deploy                    your cluster in focus/postgresql: sources, then test-data.sql
  database test                      db/test/*.sql, TAP
  database migrator migrate status   the migrations against that database`;

export function registerScaffoldCommand(program: Command, ctx: CliContext): void {
  program
    .command('scaffold')
    .description('make a new project in LOCAL_DIR, else the current directory (sources, first migration, tests, test data, .gitignore, .env.example); overwrites nothing')
    .action(async () => {
      const { scaffoldCommand } = await import('../../commands/scaffold.js');
      const result = scaffoldCommand(ctx.config);
      const shown = (file: string): string => path.relative(result.localDir, file) || '.';
      for (const file of result.created) ctx.log.info(`created ${shown(file)}`);
      for (const { path: file, reason } of result.skipped) ctx.log.info(`skipped ${shown(file)} (${reason})`);
      if (result.ignored.length > 0) ctx.log.info(`.gitignore: added ${result.ignored.join(', ')}`);
      if (result.created.length === 0 && result.ignored.length === 0) ctx.log.info(`nothing to do: ${result.localDir} is scaffolded`);
      else ctx.log.info(NEXT_STEPS);
    });
}
