/**
 * `database backup | restore | diff | diff log | pull_staging`: drift review and data movement.
 * Each action loads its command when it runs (see database-program.ts).
 */
import type { Command } from 'commander';
import type { CliContext } from '../run.js';
import type { DiffFlags } from './diff-action.js';
import { AmbiguousError } from '../../base/errors.js';
import { plural } from '../../base/text.js';
import { VERSION } from '../version.js';

const GENERATOR = `db-tool ${VERSION}`;

/** `backup` and `restore`: the cluster's data saved and brought back. */
function registerBackup(program: Command, ctx: CliContext): void {
  program
    .command('backup')
    .description('pg_basebackup of the running cluster into $LOCAL_DIR/focus/postgresql-backup/ (old backup replaced only when the new one is complete)')
    .action(async () => {
      const { backupCommand } = await import('../../commands/backup.js');
      const result = await backupCommand(ctx.config, ctx.log, GENERATOR);
      ctx.log.info(`backup written to ${result.path}`);
      ctx.log.info(`${result.replaced ? 'replaced the previous backup' : 'new backup'}: ${(result.bytes / 1024 / 1024).toFixed(1)} MB`);
    });

  program
    .command('restore')
    .description("replace the cluster's data with a backup and start it (the previous data comes back if anything fails)")
    .argument('[path]', 'backup folder (default $LOCAL_DIR/focus/postgresql-backup); with --archive a .tar.gz of one')
    .option('--archive', 'PATH is a .tar.gz of a backup folder')
    .option('--previous', 'bring back the cluster the last wipe (fresh init or deploy) replaced; the current one becomes the previous')
    .action(async (backupPath: string | undefined, options: { archive?: boolean; previous?: boolean }) => {
      const { restoreCommand, restorePreviousCommand } = await import('../../commands/restore.js');
      if (options.previous) {
        if (backupPath !== undefined || options.archive) throw new AmbiguousError('restore --previous takes no PATH and no --archive');
        const restored = await restorePreviousCommand(ctx.config, ctx.log);
        ctx.log.info(`brought back the previous cluster into ${restored.connection.layout.dataDir}${restored.replacedTo ? ` (the one it replaced is now in ${restored.replacedTo})` : ''}`);
        ctx.log.info(`PostgreSQL ready: ${restored.connection.url}`);
        return;
      }
      const result = await restoreCommand(ctx.config, ctx.log, { archive: options.archive, path: backupPath });
      ctx.log.info(`restored ${result.backup} into ${result.dataDir}`);
      ctx.log.info(`PostgreSQL ready: ${result.connection.url}`);
    });
}

/** `diff` and `diff log`: the drift between backup + migrations and the sources. */
function registerDiff(program: Command, ctx: CliContext): void {
  const diff = program
    .command('diff')
    .description('compare "backup + pending migrations" (DB1) with "what the sources declare" (DB2): schema per object, plus data of --tables and immutable tables; exit 0 identical, 1 different, 2 a side cannot be built, 3 no backup, 4 a migration failed, 5 a --tables table exists nowhere')
    .argument('[backup_path]', 'backup folder (default $LOCAL_DIR/focus/postgresql-backup)')
    .option('--tables <list>', 'also compare the rows of these tables (comma-separated, bare or schema.name)')
    .option('-m, --mock', 'hydrate DB2 with -v USE_MOCK=1')
    .option('-H, --no-hook', 'hydrate DB2 without the hectic bundle (its migrator init still applies it afterwards)')
    .option('--privileges', 'also compare grants and default privileges (owners are never compared)')
    .option('--ignore-column-order', 'a column\'s position in its table is not a difference')
    .option('--rows-file <file>', 'write every differing row of the compared tables to FILE (unified diffs; the report shows the first 1000 per table)')
    .option('--json', 'print the report as one JSON document (also on failure: {"ok": false, "error": {…}})')
    .option('-o, --output <file>', 'write the report to FILE instead of stdout')
    .option('--write-migration <name>', 'write the migration DB1 → DB2 to $MIGRATION_DIR/<UTC timestamp>-NAME/{up,down}.sql, once proved on a copy of DB1')
    .option('--sql <file>', "also write the proved up.sql to FILE ('-': stdout, the report then goes to stderr)")
    .action(async (backupPath: string | undefined, flags: DiffFlags, command: Command) => {
      const { runDiffAction } = await import('./diff-action.js');
      await runDiffAction(ctx, GENERATOR, backupPath, flags, command);
    });

  diff
    .command('log')
    .description("server logs of the latest diff run: `list`, an INDEX, a NAME (or unique part of one); all files without argument")
    .argument('[selector]', 'list | INDEX | NAME')
    .action(async (selector: string | undefined) => {
      const [{ listDiffLogs }, { showLogs }] = await Promise.all([import('../../commands/diff.js'), import('../show-logs.js')]);
      await showLogs(ctx, listDiffLogs(ctx.config), selector, 'database diff log list');
    });
}

/** `pull_staging`: staging's rows as the developer's test data. */
function registerPullStaging(program: Command, ctx: CliContext): void {
  program
    .command('pull_staging')
    .description('pg_dump STAGING_DUMP_TABLES from STAGING_DB_URL over ssh STAGING_SSH_HOST into $PROFILE_DIR/test-data.sql (atomically)')
    .action(async () => {
      const { pullStagingCommand } = await import('../../commands/pull-staging.js');
      const result = await pullStagingCommand(ctx.config, ctx.log, GENERATOR);
      ctx.log.info(`wrote ${result.file} (${plural(result.tables.length, 'table')} from ${result.sshHost})`);
    });
}

export function registerDataCommands(program: Command, ctx: CliContext): void {
  registerBackup(program, ctx);
  registerDiff(program, ctx);
  registerPullStaging(program, ctx);
}
