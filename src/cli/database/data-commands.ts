/** `database backup | restore | diff | diff log | pull_staging`: drift review and data movement. */
import fs from 'node:fs';
import path from 'node:path';
import { Chalk } from 'chalk';
import type { Command } from 'commander';
import { backupCommand } from '../../commands/backup.js';
import { diffCommand, listDiffLogs, type DiffRun } from '../../commands/diff.js';
import { pullStagingCommand } from '../../commands/pull-staging.js';
import { restoreCommand } from '../../commands/restore.js';
import { formatTextReport, toJsonError, toJsonReport } from '../../diff/report.js';
import { AmbiguousError, ExitCode, InternalError, isDbToolError } from '../../base/errors.js';
import { diffSettled } from '../../diff/migration-report.js';
import { splitTableList } from '../../pg/table-names.js';
import { colorEnabled, redact } from '../../base/log.js';
import { json, page } from '../output.js';
import type { CliContext } from '../run.js';
import { showLogs } from '../show-logs.js';
import { globalsOf } from './globals.js';
import { VERSION } from '../version.js';
import { plural } from '../../base/text.js';

const GENERATOR = `db-tool ${VERSION}`;

interface DiffFlags {
  tables?: string;
  mock?: boolean;
  hook: boolean;
  privileges?: boolean;
  ignoreColumnOrder?: boolean;
  json?: boolean;
  output?: string;
  writeMigration?: string;
  sql?: string;
}

export function registerDataCommands(program: Command, ctx: CliContext): void {
  program
    .command('backup')
    .description('pg_basebackup of the running cluster into $LOCAL_DIR/focus/postgresql-backup/ (old backup replaced only when the new one is complete)')
    .action(async () => {
      const result = await backupCommand(ctx.config, ctx.log, GENERATOR);
      ctx.log.info(`backup written to ${result.path}`);
      ctx.log.info(`${result.replaced ? 'replaced the previous backup' : 'new backup'}: ${(result.bytes / 1024 / 1024).toFixed(1)} MB`);
    });

  program
    .command('restore')
    .description("replace the cluster's data with a backup and start it (the previous data comes back if anything fails)")
    .argument('[path]', 'backup folder (default $LOCAL_DIR/focus/postgresql-backup); with --archive a .tar.gz of one')
    .option('--archive', 'PATH is a .tar.gz of a backup folder')
    .action(async (backupPath: string | undefined, options: { archive?: boolean }) => {
      const result = await restoreCommand(ctx.config, ctx.log, { archive: options.archive, path: backupPath });
      ctx.log.info(`restored ${result.backup} into ${result.dataDir}`);
      ctx.log.info(`PostgreSQL ready: ${result.connection.url}`);
    });

  const diff = program
    .command('diff')
    .description('compare "backup + pending migrations" (DB1) with "what the sources declare" (DB2): schema per object, plus data of --tables and immutable tables; exit 0 identical, 1 different, 2 a side cannot be built, 3 no backup, 4 a migration failed, 5 a --tables table exists nowhere')
    .argument('[backup_path]', 'backup folder (default $LOCAL_DIR/focus/postgresql-backup)')
    .option('--tables <list>', 'also compare the rows of these tables (comma-separated, bare or schema.name)')
    .option('-m, --mock', 'hydrate DB2 with -v USE_MOCK=1')
    .option('-H, --no-hook', 'hydrate DB2 without the hectic bundle (its migrator init still applies it afterwards)')
    .option('--privileges', 'also compare grants and default privileges (owners are never compared)')
    .option('--ignore-column-order', 'a column\'s position in its table is not a difference')
    .option('--json', 'print the report as one JSON document (also on failure: {"ok": false, "error": {…}})')
    .option('-o, --output <file>', 'write the report to FILE instead of stdout')
    .option('--write-migration <name>', 'write the migration DB1 → DB2 to $MIGRATION_DIR/<UTC timestamp>-NAME/{up,down}.sql, once proved on a copy of DB1')
    .option('--sql <file>', "also write the proved up.sql to FILE ('-': stdout, the report then goes to stderr)")
    .action(async (backupPath: string | undefined, flags: DiffFlags, command: Command) => {
      if (globalsOf(command).url) ctx.log.warn('--url is ignored: diff compares the two private clusters it starts');
      const sqlToStdout = flags.sql === '-';
      if (sqlToStdout && flags.json && !flags.output) throw new AmbiguousError('--sql - and --json both want stdout: write the report elsewhere with -o FILE');
      const emit = (text: string): void => (flags.output ? writeReport(ctx, flags.output, text) : ctx.out(text));
      let result: DiffRun;
      try {
        result = await diffCommand(ctx.config, ctx.log, {
          backupPath,
          tables: flags.tables ? splitTableList(flags.tables, ',') : [],
          mock: flags.mock,
          noHook: !flags.hook,
          privileges: flags.privileges,
          ignoreColumnOrder: flags.ignoreColumnOrder,
          writeMigration: flags.writeMigration,
          migrationSql: flags.sql !== undefined,
          generator: GENERATOR,
        });
      } catch (error) {
        // With --json, a failure is a document too; the error line still goes to stderr.
        if (flags.json) emit(json(jsonFailure(error)));
        throw error;
      }
      const migration = result.migration;
      if (migration?.proof.proved && flags.sql) {
        if (sqlToStdout) ctx.out(migration.up);
        else writeReport(ctx, flags.sql, migration.up, 'up.sql');
      }
      if (migration?.folder) ctx.log.info(`migration written to ${migration.folder}`);
      else if ((flags.writeMigration !== undefined || flags.sql) && !migration) ctx.log.info('no schema differences: no migration written');
      if (sqlToStdout && !flags.output) {
        process.stderr.write(formatTextReport(result));
      } else if (flags.json) {
        emit(json(toJsonReport(result)));
      } else if (flags.output) {
        writeReport(ctx, flags.output, formatTextReport(result));
      } else {
        const color = new Chalk({ level: colorEnabled(ctx.stdoutIsTTY, ctx.config.noColor, ctx.config.forceColor) ? 1 : 0 });
        await page(ctx, formatTextReport(result, color));
      }
      // With a migration asked for, a proved one settles the schema drift; data drift stays a difference.
      if (!diffSettled(result)) ctx.exitCode = ExitCode.generic;
    });

  diff
    .command('log')
    .description("server logs of the latest diff run: `list`, an INDEX, a NAME (or unique part of one); all files without argument")
    .argument('[selector]', 'list | INDEX | NAME')
    .action((selector: string | undefined) => showLogs(ctx, listDiffLogs(ctx.config), selector, 'database diff log list'));

  program
    .command('pull_staging')
    .description('pg_dump STAGING_DUMP_TABLES from STAGING_DB_URL over ssh STAGING_SSH_HOST into $PROFILE_DIR/test-data.sql (atomically)')
    .action(async () => {
      const result = await pullStagingCommand(ctx.config, ctx.log, GENERATOR);
      ctx.log.info(`wrote ${result.file} (${plural(result.tables.length, 'table')} from ${result.sshHost})`);
    });
}

/** The `{"ok": false, …}` document of a failed diff, with the exit code the run ends with. */
function jsonFailure(error: unknown): unknown {
  if (isDbToolError(error)) return toJsonError(error.exitCode, redact(error.message), error.details && redact(error.details));
  return toJsonError(ExitCode.bug, `unexpected error: ${redact(error instanceof Error ? error.message : String(error))}`);
}

/** Writes -o FILE; a file that cannot be written is not "differences" (exit 1) but exit 13. */
function writeReport(ctx: CliContext, file: string, text: string, what = 'report'): void {
  const target = path.resolve(ctx.config.cwd, file);
  try {
    fs.writeFileSync(target, text);
  } catch (error) {
    throw new InternalError(`cannot write the ${what} to ${target}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  ctx.log.info(`${what} written to ${target}`);
}
