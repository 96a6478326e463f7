/** The server logs of the latest diff run (`database diff log`): `db1/…`, `db2/…`, psql output. */
import fs from 'node:fs';
import path from 'node:path';
import { requireLocalDir, type LocalDirSetting } from '../base/config.js';
import { BadInputError } from '../base/errors.js';
import type { LogFile } from '../base/log-files.js';
import { latestDiffLogs as latestRunLogs } from './diff-runs.js';

/** The logs folder of the most recent diff run, or undefined when there was none. */
function latestDiffLogs(config: LocalDirSetting): string | undefined {
  return latestRunLogs(path.join(requireLocalDir(config), 'focus'));
}

/** The files below `dir`, as paths relative to it, in name order. */
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
export function listDiffLogs(config: LocalDirSetting): { dir: string; files: LogFile[] } {
  const dir = latestDiffLogs(config);
  if (!dir) throw new BadInputError('no diff logs: `database diff` has not run in this project yet');
  const files = walk(dir).map((name, i) => {
    const file = path.join(dir, name);
    return { index: i + 1, name, path: file, size: fs.statSync(file).size };
  });
  return { dir, files };
}
