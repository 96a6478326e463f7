/** `database completion SHELL`: completions for all four executables, from their programs. */
import { Argument, type Command } from 'commander';
import { buildMigrator, standaloneSources } from '../migrator-program.js';
import { buildPostgresCleanup } from '../postgres-cleanup-program.js';
import { buildPostgresInit } from '../postgres-init-program.js';
import { completionNodes, renderCompletion, SHELLS } from '../completion.js';
import type { CliContext } from '../run.js';
import { VERSION } from '../version.js';

export function registerCompletionCommand(program: Command, ctx: CliContext): void {
  program
    .command('completion')
    .description('print a completion script for database, migrator, postgres-init and postgres-cleanup')
    .addArgument(new Argument('<shell>', 'the shell the script is for').choices(SHELLS))
    .action((shell: string) => {
      const migrator = buildMigrator(ctx, standaloneSources(ctx.config));
      const nodes = [
        ...completionNodes(program, { migrator }),
        ...completionNodes(migrator),
        ...completionNodes(buildPostgresInit(ctx)),
        ...completionNodes(buildPostgresCleanup(ctx)),
      ];
      ctx.out(renderCompletion(shell, nodes, VERSION));
    });
}
