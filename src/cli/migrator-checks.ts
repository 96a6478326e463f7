/** The migrator's checks of pending migrations (SPEC §17): `lint` and `rehearse`; exit 1 when one flags something. */
import type { Command } from 'commander';
import { BadInputError } from '../base/errors.js';
import { ExitCode } from './exit-codes.js';
import { json } from './output.js';
import { settingsOf, type MigratorSources } from './migrator-settings.js';
import { configureCommand, type CliContext } from './run.js';

/** `lint [MIGRATION…]` (SPEC §17): exit 1 when anything is flagged. */
export function registerLint(program: Command, ctx: CliContext, sources: MigratorSources): void {
  configureCommand(program.command('lint'), sources.name)
    .description("check migrations (default: the pending ones) with PostgreSQL's parser for what hurts a live database: rewrites, long locks, data loss…; exit 1 when anything is flagged")
    .argument('[MIGRATION...]', 'migration folder names, their timestamps, or paths to migration folders')
    .option('--json', 'print one JSON document (same as --format json)')
    .option('--format <format>', 'text, json or sarif (SARIF 2.1.0, for CI annotations)', 'text')
    .action(async (names: string[], options: { json?: boolean; format: string }, command: Command) => {
      const settings = settingsOf(command, ctx, sources);
      const format = options.json ? 'json' : options.format;
      const [{ lintCommand }, output] = await Promise.all([import('../commands/migrator-lint.js'), import('./render/lint-output.js')]);
      if (!(output.LINT_FORMATS as readonly string[]).includes(format)) throw new BadInputError(`--format expects text, json or sarif, got '${format}'`);
      const report = await lintCommand({ migrationDir: settings.migrationDir, url: settings.url, names }, ctx.config.cwd);
      if (format === 'json') ctx.out(json(output.lintJson(report, ctx.config.cwd)));
      else if (format === 'sarif') ctx.out(json(output.lintSarif(report, ctx.config.cwd)));
      else ctx.out(output.formatLintText(report, ctx.config.cwd));
      ctx.log.info(output.lintSummary(report));
      if (report.findings.length > 0) ctx.exitCode = ExitCode.generic;
    });
}

/** `rehearse` (SPEC §17): the pending migrations on a restored copy of the latest backup; exit 1 over a limit. */
export function registerRehearse(program: Command, ctx: CliContext, sources: MigratorSources): void {
  configureCommand(program.command('rehearse'), sources.name)
    .description("apply the pending migrations to a throw-away copy of the latest backup (production's data): per migration its duration, locks and rewrites; exit 1 when a limit is exceeded")
    .option('--max-lock-ms <N>', 'longest a write-blocking lock on an existing table may be held (default 1000)')
    .option('--max-rewrite-size <SIZE>', 'largest table a migration may rewrite, e.g. 500MB (default 100MB)')
    .option('--backup <path>', 'the backup to restore (default $LOCAL_DIR/focus/postgresql-backup)')
    .option('--json', 'print one JSON document')
    .action(async (options: { maxLockMs?: string; maxRewriteSize?: string; backup?: string; json?: boolean }, command: Command) => {
      const settings = settingsOf(command, ctx, sources);
      const [{ rehearseCommand }, output] = await Promise.all([import('../commands/rehearse.js'), import('./render/rehearse-output.js')]);
      const thresholds = {
        ...(options.maxLockMs !== undefined ? { longLockMs: output.parseMs(options.maxLockMs) } : {}),
        ...(options.maxRewriteSize !== undefined ? { largeTableBytes: output.parseSize(options.maxRewriteSize) } : {}),
      };
      const result = await rehearseCommand(ctx.config, ctx.log, { backupPath: options.backup, migrationDir: settings.migrationDir(), thresholds });
      if (options.json) ctx.out(json(output.rehearseJson(result)));
      else ctx.out(output.formatRehearseText(result));
      if (result.migrations.length === 0) ctx.log.info('no pending migrations: nothing to rehearse');
      else if (result.exceeded) ctx.log.error('rehearsal: a migration exceeded a limit (see the lines marked !)');
      if (result.exceeded) ctx.exitCode = ExitCode.generic;
    });
}
