/**
 * `database init | cleanup | log | status | doctor`: the cluster and its surroundings.
 * Each action loads its command when it runs (see database-program.ts).
 */
import type { Command } from 'commander';
import { ExitCode } from '../exit-codes.js';
import { json } from '../output.js';
import { formatDoctor } from '../render/doctor.js';
import { formatStatus } from '../render/status.js';
import type { CliContext } from '../run.js';

export function registerClusterCommands(program: Command, ctx: CliContext): void {
  program
    .command('init')
    .description('start the project cluster (postgres-init for PG_WORKING_DIR)')
    .option('--reuse', 'keep an existing cluster instead of recreating it')
    .action(async (options: { reuse?: boolean }) => {
      const { initCommand } = await import('../../commands/init.js');
      const connection = await initCommand(ctx.config, ctx.log, { reuse: options.reuse || ctx.config.reuse, command: 'database init' });
      ctx.log.info(`PostgreSQL ready: ${connection.url}`);
    });

  program
    .command('cleanup')
    .description('stop the cluster and remove PG_WORKING_DIR (only if it holds nothing but what db-tool made)')
    .action(async () => {
      const { cleanupCommand } = await import('../../commands/cleanup.js');
      const result = await cleanupCommand(ctx.config, ctx.log);
      ctx.log.info(result.outcome === 'removed' ? `removed ${result.workingDir}` : `${result.workingDir} does not exist; nothing to clean up`);
    });

  program
    .command('log')
    .description('show server logs: `list`, an INDEX, a NAME (or unique part of one); all files without argument')
    .argument('[selector]', 'list | INDEX | NAME')
    .action(async (selector: string | undefined) => {
      const [{ listLogs }, { showLogs }] = await Promise.all([import('../../commands/log.js'), import('../show-logs.js')]);
      await showLogs(ctx, listLogs(ctx.config), selector, 'database log list');
    });

  program
    .command('status')
    .description('cluster running or not, URL, data dir, PostgreSQL version, size, migrations')
    .option('--json', 'print one JSON document')
    .action(async (options: { json?: boolean }) => {
      const { statusCommand } = await import('../../commands/status.js');
      const report = await statusCommand(ctx.config);
      ctx.out(options.json ? json(report) : formatStatus(report));
    });

  program
    .command('doctor')
    .description('check programs, pg_cron, variables, folders, socket path, root account, what crashes left')
    .option('--json', 'print one JSON document')
    .option('--fix', 'clear what crashes left: dead runs\' clusters, folders and RAM data, test clones, stale locks')
    .action(async (options: { json?: boolean; fix?: boolean }) => {
      const { doctorCommand } = await import('../../commands/doctor.js');
      const report = await doctorCommand(ctx.config, { fix: options.fix });
      ctx.out(options.json ? json(report) : formatDoctor(report));
      if (!report.ok) ctx.exitCode = ExitCode.generic;
    });
}
