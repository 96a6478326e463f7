import fs from 'node:fs';
import path from 'node:path';
import { clusterLayout } from '../cluster/cluster-layout.js';
import type { Config } from '../base/config.js';
import { BadInputError } from '../base/errors.js';
import { readBelow } from '../base/safe-files.js';
import { serverPath } from '../cluster/server-files.js';

export interface LogFile {
  index: number;
  name: string;
  path: string;
  size: number;
  /**
   * The file is in a folder of the server account: read below this anchor, never
   * through a link (as root, a link there could show any file of root's).
   */
  anchor?: string;
  /** Who may own it there (the server account, and us). */
  owners?: number[];
}

/** Server log files: the collector's folder, plus server.log (the server's own output). */
export function listLogs(config: Config): { dir: string; files: LogFile[] } {
  const layout = clusterLayout(config);
  const paths: string[] = [];
  let dirExists = true;
  try {
    for (const name of fs.readdirSync(layout.logDir).sort()) {
      const file = path.join(layout.logDir, name);
      if (fs.lstatSync(file).isFile()) paths.push(file);
    }
  } catch {
    dirExists = false;
  }
  if (fs.lstatSync(layout.serverLog, { throwIfNoEntry: false })?.isFile() && !paths.includes(layout.serverLog)) paths.unshift(layout.serverLog);
  if (!dirExists && paths.length === 0) {
    throw new BadInputError(`no log folder: ${layout.logDir} does not exist (start the cluster with \`database init --reuse\`, which keeps its data)`);
  }
  const owners = [fs.statSync(layout.workingDir, { throwIfNoEntry: false })?.uid ?? -1];
  const files = paths.map((file, i) => ({
    index: i + 1, name: path.basename(file), path: file, size: fs.lstatSync(file).size, anchor: serverPath(layout, file).anchor, owners,
  }));
  return { dir: layout.logDir, files };
}

/** One file by 1-based index, exact name or unique substring. */
export function selectLog(files: readonly LogFile[], selector: string, listCommand: string): LogFile {
  const hint = `run \`${listCommand}\` to see the files`;
  if (/^[0-9]+$/.test(selector)) {
    const file = files[Number(selector) - 1];
    if (!file) throw new BadInputError(`no log file with index ${selector} (there are ${files.length}); ${hint}`);
    return file;
  }
  const exact = files.find((file) => file.name === selector);
  if (exact) return exact;
  const matches = files.filter((file) => file.name.includes(selector));
  if (matches.length === 1 && matches[0]) return matches[0];
  if (matches.length === 0) throw new BadInputError(`no log file matches '${selector}'; ${hint}`);
  throw new BadInputError(`'${selector}' matches ${matches.length} log files (${matches.map((f) => f.name).join(', ')}); be more specific or use an index`);
}

/** A log file's text ('' when it is gone, or no longer below its anchor). */
export function readLog(file: LogFile): string {
  if (file.anchor === undefined) return fs.readFileSync(file.path, 'utf8');
  return readBelow(file.anchor, file.path, { owners: file.owners ?? [] }) ?? '';
}
