/** `database completion SHELL`: completions for all four executables, from their programs. */
import { Argument, type Command } from 'commander';
import { completionNodes, renderCompletion, SHELLS } from '../completion.js';
import type { CliContext } from '../run.js';
import { VERSION } from '../version.js';

export function registerCompletionCommand(program: Command, ctx: CliContext): void {
  program
    .command('completion')
    .description('print a completion script for database, migrator, postgres-init and postgres-cleanup')
    .addArgument(new Argument('<shell>', 'the shell the script is for').choices(SHELLS))
    .action(async (shell: string) => {
      const [{ buildMigrator }, { standaloneSources }, { buildPostgresCleanup }, { buildPostgresInit }] = await Promise.all([
        import('../migrator-program.js'),
        import('../migrator-settings.js'),
        import('../postgres-cleanup-program.js'),
        import('../postgres-init-program.js'),
      ]);
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
