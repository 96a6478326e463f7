/**
 * `database test [-j N] [--junit FILE] [PATH…]` (SPEC §5): every `*.sql` below
 * `$DATABASE_DIR/test/` (or the files and folders given), each in its own copy of the
 * target, up to N at once; the results typed, for the CLI to show. The run itself is
 * sqltest/test-runner.ts.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { requirePath, type Config } from '../base/config.js';
import { BadInputError } from '../base/errors.js';
import { assertWritableFile, unwritableFile } from '../base/output-files.js';
import type { Logger } from '../base/log.js';
import { assertTablesExist } from '../deploy/inherits.js';
import { junitXml } from '../sqltest/junit.js';
import { collectTestFiles } from '../sqltest/test-files.js';
import { runTestFiles, type TestRunEvent, type TestRunResult } from '../sqltest/test-runner.js';
import { userSqlCwd } from '../deploy/user-sql.js';
import { resolveTargetUrl } from '../cluster/target.js';
import { describeTarget } from '../pg/target-name.js';

export interface TestOptions {
  /** Files and folders; default `$DATABASE_DIR/test/`. Relative to the current directory. */
  paths?: readonly string[];
  url?: string;
  /** -i/--inherits: tables that must exist before any test runs. */
  inherits?: readonly string[];
  /** Files run at once; default the number of CPUs. */
  jobs?: number;
  /** Where to write a JUnit XML report. */
  junit?: string;
  onEvent?: (event: TestRunEvent) => void;
}

export interface TestResult extends TestRunResult {
  url: string;
  /** The JUnit report written, if one was asked for. */
  junitFile: string | undefined;
}

/** The files a run would test, in the order it tests them (exit 1 naming a missing path). */
export function testFiles(config: Config, paths: readonly string[] = []): string[] {
  const defaultDir = paths.length > 0 ? '' : path.join(requirePath(config.databaseDir, 'DATABASE_DIR'), 'test');
  return collectTestFiles(paths.map((given) => path.resolve(config.cwd, given)), defaultDir);
}

/** A file's path relative to the project root (what CI reporters link to), else absolute. */
function projectPath(root: string, file: string): string {
  const relative = path.relative(root, file);
  return relative && !relative.startsWith('..') && !path.isAbsolute(relative) ? relative : file;
}

/** Writes the report next to nothing half-done: a temp file renamed over the target. */
function writeReport(file: string, text: string): void {
  try {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const temp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(temp, text);
    fs.renameSync(temp, file);
  } catch (error) {
    throw unwritableFile('JUnit report', file, error);
  }
}

export async function testCommand(config: Config, log: Logger, options: TestOptions = {}): Promise<TestResult> {
  const files = testFiles(config, options.paths);
  const url = resolveTargetUrl(config, { url: options.url }, log);
  log.info(`target: ${describeTarget(url)}`);
  const jobs = options.jobs ?? os.availableParallelism();
  if (!Number.isInteger(jobs) || jobs < 1) throw new BadInputError(`--jobs must be a whole number of at least 1, not ${options.jobs}`);
  const junitFile = options.junit ? path.resolve(config.cwd, options.junit) : undefined;
  if (junitFile) assertWritableFile('JUnit report', junitFile, { makesFolders: true });
  await assertTablesExist(url, options.inherits ?? [], log);
  const run = await runTestFiles(config, { url, files, jobs, cwd: userSqlCwd(config), onEvent: options.onEvent });
  if (junitFile) writeReport(junitFile, junitXml(run, (file) => projectPath(userSqlCwd(config), file)));
  return { ...run, url, junitFile };
}
