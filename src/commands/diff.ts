/**
 * `database diff [BACKUP_PATH] [--tables a,b] [-m] [-H] [--privileges] [--ignore-column-order] [--rows-file FILE]` and `database diff log` (SPEC §8).
 * The work is in src/diff/; this file is the command surface: run a diff, and find the
 * server logs of the latest run.
 */
import type { Config } from '../base/config.js';
import type { LogFile } from '../base/log-files.js';
import { listDiffLogs as listLatestDiffLogs } from '../diff/diff-logs.js';
import { runDiff, type DiffOptions, type DiffRun } from '../diff/run-diff.js';
import type { Logger } from '../base/log.js';

export type { DiffOptions, DiffRun };
/** For the CLI: `--tables a,b` as a list, and whether a run's result is exit 0. */
export { splitTableList } from '../pg/table-names.js';
export { diffSettled } from '../diff/migration-report.js';

export function diffCommand(config: Config, log: Logger, options: DiffOptions): Promise<DiffRun> {
  return runDiff(config, log, options);
}

/** The files of the latest run's logs (`db1/…`, `db2/…`, psql output), 1-based indexes. */
export function listDiffLogs(config: Config): { dir: string; files: LogFile[] } {
  return listLatestDiffLogs(config);
}
