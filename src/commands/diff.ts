/**
 * `database diff [BACKUP_PATH] [--tables a,b] [-m]` and `database diff log` (SPEC §8).
 * The work is in src/diff/; this file is the command surface: run a diff, and find the
 * server logs of the latest run.
 */
import fs from 'node:fs';
import path from 'node:path';
import { requireLocalDir, type Config } from '../base/config.js';
import { DIFF_LOGS, DIFF_RUN_PREFIX, runDiff, type DiffOptions, type DiffRun } from '../diff/run-diff.js';
import { UserError } from '../base/errors.js';
import type { Logger } from '../base/log.js';
import type { LogFile } from './log.js';

export type { DiffOptions, DiffRun };

export function diffCommand(config: Config, log: Logger, options: DiffOptions): Promise<DiffRun> {
  return runDiff(config, log, options);
}

/** The logs folder of the most recent diff run, or undefined when there was none. */
export function latestDiffLogs(config: Config): string | undefined {
  const focus = path.join(requireLocalDir(config), 'focus');
  let names: string[];
  try {
    names = fs.readdirSync(focus).filter((name) => name.startsWith(`${DIFF_RUN_PREFIX}-`));
  } catch {
    return undefined;
  }
  const candidates = names
    .map((name) => path.join(focus, name, DIFF_LOGS))
    .filter((dir) => fs.statSync(dir, { throwIfNoEntry: false })?.isDirectory())
    .map((dir) => ({ dir, mtime: fs.statSync(path.dirname(dir)).mtimeMs }))
    .sort((a, b) => b.mtime - a.mtime || (a.dir < b.dir ? 1 : -1));
  return candidates[0]?.dir;
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
  if (!dir) throw new UserError('no diff logs: `database diff` has not run in this project yet');
  const files = walk(dir).map((name, i) => {
    const file = path.join(dir, name);
    return { index: i + 1, name, path: file, size: fs.statSync(file).size };
  });
  return { dir, files };
}
