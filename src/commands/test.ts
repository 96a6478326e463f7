/**
 * `database test [FILE…]` (SPEC §5): run SQL test files (default
 * `$DATABASE_DIR/test/test.sql`) through psql and read their output as TAP.
 *
 * psql runs like `pg_prove` runs it — unaligned, tuples only, no psqlrc, quiet,
 * ON_ERROR_STOP — so `SELECT 'ok 1 - …'` and `\echo` print bare TAP lines and pgTAP's
 * functions work unchanged. A file fails on an SQL error, a `not ok` line (without a
 * TODO/SKIP directive), a plan mismatch or `Bail out!`. Every file runs, even after
 * one failed; the caller decides how to report the result.
 */
import fs from 'node:fs';
import path from 'node:path';
import { requirePath, type Config } from '../base/config.js';
import { UserError } from '../base/errors.js';
import { assertTablesExist } from '../build/inherits.js';
import type { Logger } from '../base/log.js';
import { describePsqlFailure, execPsql, SqlError } from '../pg/psql.js';
import { parseTap, type TapReport, type TapTotals } from '../build/tap.js';
import { resolveTargetUrl } from '../cluster/target.js';
import { userSqlCwd } from '../build/user-sql.js';

/** pg_prove's psql settings: output lines are exactly what the tests print. */
export const TAP_PSQL_ARGS = ['--no-align', '--tuples-only', '--pset', 'pager=off', '--pset', 'null='] as const;

export interface TestOptions {
  /** Test files; default `$DATABASE_DIR/test/test.sql`. Relative to the current directory. */
  files?: readonly string[];
  url?: string;
  /** -i/--inherits: tables that must exist before any test runs. */
  inherits?: readonly string[];
  /** Called with each file's result as soon as it has run (to print its output). */
  onFile?: (result: TestFileResult) => void;
}

export interface TestFileResult {
  file: string;
  /** psql's stdout: the TAP stream. */
  output: string;
  tap: TapReport;
  /** The SQL error that stopped the file, if any. */
  error: SqlError | undefined;
  ok: boolean;
}

export interface TestResult {
  url: string;
  files: TestFileResult[];
  totals: TapTotals;
  ok: boolean;
}

/** The files to run; exit 1 naming the first one that is missing (nothing runs then). */
export function testFiles(config: Config, files: readonly string[] = []): string[] {
  const wanted = files.length > 0
    ? files.map((file) => path.resolve(config.cwd, file))
    : [path.join(requirePath(config.databaseDir, 'DATABASE_DIR'), 'test', 'test.sql')];
  for (const file of wanted) {
    if (!fs.statSync(file, { throwIfNoEntry: false })?.isFile()) throw new UserError(`test file not found: ${file}`);
  }
  return wanted;
}

async function runTestFile(config: Config, log: Logger, url: string, file: string): Promise<TestFileResult> {
  const result = await execPsql(config, { url, file, args: TAP_PSQL_ARGS, output: 'pipe', cwd: userSqlCwd(config) });
  const tap = parseTap(result.stdout);
  const error = result.code === 0 ? undefined : new SqlError(`test ${file}`, describePsqlFailure(result));
  if (!error) for (const line of result.stderr.split('\n')) if (line.trim() !== '') log.debug(line);
  return { file, output: result.stdout, tap, error, ok: !error && tap.ok };
}

export function totalsOf(files: readonly TestFileResult[]): TapTotals {
  const sum = (pick: (report: TapReport) => number): number => files.reduce((total, file) => total + pick(file.tap), 0);
  return {
    files: files.length,
    passed: sum((r) => r.passed),
    failed: sum((r) => r.failed),
    skipped: sum((r) => r.skipped),
    todo: sum((r) => r.todo),
    brokenFiles: files.filter((file) => file.error !== undefined || file.tap.problems.length > 0).length,
    ok: files.every((file) => file.ok),
  };
}

export async function testCommand(config: Config, log: Logger, options: TestOptions = {}): Promise<TestResult> {
  const files = testFiles(config, options.files);
  const url = resolveTargetUrl(config, { url: options.url });
  await assertTablesExist(url, options.inherits ?? [], log);
  const results: TestFileResult[] = [];
  for (const file of files) {
    const result = await runTestFile(config, log, url, file);
    options.onFile?.(result);
    results.push(result);
  }
  const totals = totalsOf(results);
  return { url, files: results, totals, ok: totals.ok };
}
