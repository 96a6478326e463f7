/** What `database diff` does once its options are parsed: run it, then write the report where asked. */
import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { diffCommand, diffSettled, splitTableList, type DiffRun } from '../../commands/diff.js';
import { formatTextReport, toJsonError, toJsonReport } from '../render/diff-report.js';
import { AmbiguousError, isDbToolError } from '../../base/errors.js';
import { assertWritableFile, unwritableFile } from '../../base/output-files.js';
import { diffExitCodeFor, ExitCode } from '../exit-codes.js';
import { redact } from '../../base/log.js';
import { json, page, stdoutPalette } from '../output.js';
import { typedError, type CliContext } from '../run.js';
import { globalsOf } from './globals.js';

export interface DiffFlags {
  tables?: string;
  mock?: boolean;
  hook: boolean;
  privileges?: boolean;
  ignoreColumnOrder?: boolean;
  rowsFile?: string;
  json?: boolean;
  output?: string;
  writeMigration?: string;
  sql?: string;
}

export async function runDiffAction(ctx: CliContext, generator: string, backupPath: string | undefined, flags: DiffFlags, command: Command): Promise<void> {
  if (globalsOf(command).url) ctx.log.warn('--url is ignored: diff compares the two private clusters it starts');
  const sqlToStdout = flags.sql === '-';
  if (sqlToStdout && flags.json && !flags.output) throw new AmbiguousError('--sql - and --json both want stdout: write the report elsewhere with -o FILE');
  // 1 means differences and nothing else; a failure that would be 1 elsewhere is 2 here.
  ctx.exitCodeFor = diffExitCodeFor;
  const emit = (text: string): void => (flags.output ? writeReport(ctx, flags.output, text) : ctx.out(text));
  let result: DiffRun;
  try {
    checkOutputFiles(ctx, flags);
    result = await diffCommand(ctx.config, ctx.log, {
      backupPath,
      tables: flags.tables ? splitTableList(flags.tables, ',') : [],
      mock: flags.mock,
      noHook: !flags.hook,
      privileges: flags.privileges,
      ignoreColumnOrder: flags.ignoreColumnOrder,
      rowsFile: flags.rowsFile,
      writeMigration: flags.writeMigration,
      migrationSql: flags.sql !== undefined,
      generator,
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
  if (result.rowsFile) ctx.log.info(`differing rows written to ${result.rowsFile}`);
  if (migration?.folder) ctx.log.info(`migration written to ${migration.folder}`);
  else if ((flags.writeMigration !== undefined || flags.sql) && !migration) ctx.log.info('no schema differences: no migration written');
  if (sqlToStdout && !flags.output) {
    process.stderr.write(formatTextReport(result));
  } else if (flags.json) {
    emit(json(toJsonReport(result)));
  } else if (flags.output) {
    writeReport(ctx, flags.output, formatTextReport(result));
  } else {
    await page(ctx, formatTextReport(result, stdoutPalette(ctx)));
  }
  // With a migration asked for, a proved one settles the schema drift; data drift stays a difference.
  if (!diffSettled(result)) ctx.exitCode = ExitCode.generic;
}

/** The `{"ok": false, …}` document of a failed diff, with the exit code the run ends with. */
function jsonFailure(thrown: unknown): unknown {
  const error = typedError(thrown);
  const code = diffExitCodeFor(error);
  if (isDbToolError(error)) return toJsonError(code, redact(error.message), error.details && redact(error.details));
  return toJsonError(code, `unexpected error: ${redact(error instanceof Error ? error.message : String(error))}`);
}

/** The files the run will write, checked before it starts (a diff takes a while). */
function checkOutputFiles(ctx: CliContext, flags: DiffFlags): void {
  if (flags.output) assertWritableFile('report', path.resolve(ctx.config.cwd, flags.output));
  if (flags.sql && flags.sql !== '-') assertWritableFile('up.sql', path.resolve(ctx.config.cwd, flags.sql));
  if (flags.rowsFile) assertWritableFile('rows file', path.resolve(ctx.config.cwd, flags.rowsFile));
}

/** Writes -o FILE (or --sql FILE); one that cannot be written is one line naming it and why. */
function writeReport(ctx: CliContext, file: string, text: string, what = 'report'): void {
  const target = path.resolve(ctx.config.cwd, file);
  try {
    fs.writeFileSync(target, text);
  } catch (error) {
    throw unwritableFile(what, target, error);
  }
  ctx.log.info(`${what} written to ${target}`);
}
