/**
 * `database test [-j N] [--junit FILE] [PATH…]` (SPEC §5): every `*.sql` below
 * `$DATABASE_DIR/test/` (or the files and folders given), each in its own copy of the
 * target, up to N at once; the results typed, for the CLI to show. The run itself is
 * sqltest/test-runner.ts.
 */
import type { Config } from '../base/config.js';
import type { Logger } from '../base/log.js';
import { assertTablesExist } from '../deploy/inherits.js';
import { userSqlCwd } from '../deploy/user-sql.js';
import { junitReportFile, writeJunitReport } from '../sqltest/junit-report.js';
import { projectTestFiles } from '../sqltest/test-files.js';
import { runTestFiles, testJobs, type TestRunEvent, type TestRunResult } from '../sqltest/test-runner.js';
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

/** Every precondition (files, target, --jobs, the report's folder, --inherits) is checked before anything runs. */
export async function testCommand(config: Config, log: Logger, options: TestOptions = {}): Promise<TestResult> {
  const files = projectTestFiles(config, options.paths);
  const url = resolveTargetUrl(config, { url: options.url }, log);
  log.info(`target: ${describeTarget(url)}`);
  const jobs = testJobs(options.jobs);
  const junitFile = junitReportFile(config.cwd, options.junit);
  await assertTablesExist(url, options.inherits ?? [], log);
  const cwd = userSqlCwd(config);
  const run = await runTestFiles(config, { url, files, jobs, cwd, onEvent: options.onEvent });
  if (junitFile) writeJunitReport(junitFile, run, cwd);
  return { ...run, url, junitFile };
}
