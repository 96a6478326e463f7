/**
 * `database diff [BACKUP_PATH] [--tables a,b] [-m] [-H] [--privileges] [--ignore-column-order] [--rows-file FILE]` and `database diff log` (SPEC §8).
 * The work is in src/diff/; this file is the command surface: run a diff, and find the
 * server logs of the latest run.
 */
import fs from 'node:fs';
import path from 'node:path';
import { requireLocalDir, type Config } from '../base/config.js';
import { runDiff, type DiffOptions, type DiffRun } from '../diff/run-diff.js';
import { latestDiffLogs as latestRunLogs } from '../diff/diff-runs.js';
import { BadInputError } from '../base/errors.js';
import type { Logger } from '../base/log.js';
import type { LogFile } from './log.js';

export type { DiffOptions, DiffRun };
/** For the CLI: `--tables a,b` as a list, and whether a run's result is exit 0. */
export { splitTableList } from '../pg/table-names.js';
export { diffSettled } from '../diff/migration-report.js';

export function diffCommand(config: Config, log: Logger, options: DiffOptions): Promise<DiffRun> {
  return runDiff(config, log, options);
}

/** The logs folder of the most recent diff run, or undefined when there was none. */
export function latestDiffLogs(config: Config): string | undefined {
  return latestRunLogs(path.join(requireLocalDir(config), 'focus'));
}

function walk(dir: string, prefix = ''): string[] {
  const files: string[] = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const relative = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory()) files.push(...walk(path.join(dir, entry.name), relative));
    else if (entry.isFile()) files.push(relative);
  }
  return files;
}

/** The files of the latest run's logs (`db1/…`, `db2/…`, psql output), 1-based indexes. */
export function listDiffLogs(config: Config): { dir: string; files: LogFile[] } {
  const dir = latestDiffLogs(config);
  if (!dir) throw new BadInputError('no diff logs: `database diff` has not run in this project yet');
  const files = walk(dir).map((name, i) => {
    const file = path.join(dir, name);
    return { index: i + 1, name, path: file, size: fs.statSync(file).size };
  });
  return { dir, files };
}
